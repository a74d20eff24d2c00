# recipes-lib.sh - helpers for the recipe tests (tests/e2e/6N-recipe-*.sh),
# sourced after lib.sh.
#
#	recipe_plan RECIPE FILE DEST [LB_SOCKET]
#	        copies contrib/recipes/RECIPE/FILE to DEST with the recipe's
#	        install path (/usr/local/lib/cutover/recipes) pointing at the
#	        repository and, if given, load_balancers set to the socket
#	recipe_sed DEST REGEX REPLACEMENT
#	        one change to such a copy (sed -E, '|' delimiter); bails if
#	        REGEX matches no line, so a test notices when a recipe changes
#
# shellcheck shell=bash

RECIPES=$REPO/contrib/recipes

recipe_plan() {
	local recipe=$1 file=$2 dest=$3 lb=${4:-}
	[ -f "$RECIPES/$recipe/$file" ] || e2e_bail "no recipe file $recipe/$file"
	sed "s|/usr/local/lib/cutover/recipes|$RECIPES|g" \
		"$RECIPES/$recipe/$file" >"$dest"
	[ -n "$lb" ] &&
		recipe_sed "$dest" '^load_balancers: .*' "load_balancers: [unix:$lb]"
	return 0
}

recipe_sed() {
	grep -qE "$2" "$1" || e2e_bail "${1##*/}: no line matches /$2/"
	sed -i -E "s|$2|$3|" "$1"
}
