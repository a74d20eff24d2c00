#!/usr/bin/env python3
# craft_hostile.py - derive the hostile and variant fixtures of
# test_stat_sess.c from the replies captured on a real HAProxy 2.6.12 (see
# README.md). Run from this directory; it rewrites the crafted_* files.
import random

random.seed(2612)


def rd(name):
    with open(name, 'rb') as f:
        return f.read()


def wr(name, data):
    if isinstance(data, str):
        data = data.encode()
    with open('crafted_' + name, 'wb') as f:
        f.write(data)


def lines_of(name):
    text = rd(name).decode()
    assert text.endswith('\n\n')
    return text[:-2].split('\n')    # without the final empty line


def emit(lines, eol='\n'):
    return eol.join(lines) + eol + eol


def set_field(line, key, value):
    words = line.split(' ')
    for i, w in enumerate(words):
        if w.startswith(key + '='):
            words[i] = key + '=' + value
            return ' '.join(words)
    raise KeyError(key)


def drop_field(line, key):
    return ' '.join(w for w in line.split(' ') if not w.startswith(key + '='))


# ---- show sess -------------------------------------------------------------
sess = lines_of('show_sess_young.txt')     # 7 streams
assert len(sess) == 7 and 'fe=GLOBAL' in sess[4]

# cut in the middle of line 3, as a short read would leave it
wr('sess_truncated.txt', '\n'.join(sess[:2]) + '\n' + sess[2][:70])
# line 2 cut right after "age=8s", newline kept
l2 = sess[1]
wr('sess_cut_after_age.txt',
   emit([sess[0], l2[:l2.index(' calls=')]] + sess[2:]))
wr('sess_garbage.bin', bytes(random.randrange(1, 256) for _ in range(600)))
wr('sess_nul.txt', emit(sess[:3] + [sess[3][:40] + '\0' + sess[3][41:]]
                        + sess[4:]))
wr('sess_long_srv.txt', emit([sess[0], set_field(sess[1], 'srv', 'x' * 200)]
                             + sess[2:]))
wr('sess_name_127.txt', emit([set_field(sess[0], 'be', 'b' * 127)] + sess[1:]))
wr('sess_name_128.txt', emit([set_field(sess[0], 'be', 'b' * 128)] + sess[1:]))
# 100 KB in a field the parser skips (and past the words it reads)
wr('sess_long_unused.txt', emit([sess[0] + 'x' * 102400] + sess[1:]))
wr('sess_bad_ptr.txt', emit(sess[:2] + ['0xZZ' + sess[2][4:]] + sess[3:]))
assert len(sess[0].split(':')[0]) == 14      # "0x" and 12 hex digits
wr('sess_ptr_17_digits.txt',
   emit(['0x11111' + sess[0][2:]] + sess[1:]))
wr('sess_no_colon.txt', emit([sess[0].replace(': ', ' ', 1)] + sess[1:]))
wr('sess_missing_srv.txt', emit(sess[:4] + [drop_field(sess[4], 'srv')]
                                + sess[5:]))
wr('sess_dup_be.txt', emit(sess[:5] + [sess[5].replace(
    ' srv=', ' be=be_other srv=', 1)] + sess[6:]))
wr('sess_empty_srv.txt', emit([set_field(sess[0], 'srv', '')] + sess[1:]))
wr('sess_bad_calls.txt', emit([set_field(sess[0], 'calls', '3x')] + sess[1:]))
for tag, age in (('no_unit', '7'), ('over_60', '1m75s'), ('negative', '-1s'),
                 ('unit_only', 's'), ('order', '5s1m'), ('twice', '1m1m'),
                 ('ms', '7ms'), ('empty', ''), ('huge', '99999999999s')):
    wr(f'sess_age_{tag}.txt', emit(sess[:2] + [set_field(sess[2], 'age', age)]
                                   + sess[3:]))
# every shape human_time() can print, one per line, in a copy of line 1
ages = ['0s', '59s', '1m', '1m1s', '59m59s', '1h', '1h5s', '1h5m', '23h59m',
        '1d', '1d5s', '2d3h', '24855d23h', '?']
wr('sess_age_forms.txt',
   emit([set_field(sess[0], 'age', a).replace(sess[0][:14], '0x%012x' % i, 1)
         for i, a in enumerate(ages)]))
wr('sess_crlf.txt', emit(sess, '\r\n'))
# the kept words in reverse order, after the ones HAProxy prints later
def shuffle(line):
    ptr, rest = line.split(' ', 1)
    words = rest.split(' ')
    keep = [w for w in words if w.split('=')[0] in
            ('proto', 'src', 'fe', 'be', 'srv', 'age', 'calls')]
    other = [w for w in words if w not in keep]
    return ptr + ' ' + ' '.join(other + keep[::-1])
wr('sess_reordered.txt', emit([shuffle(l) for l in sess]))
wr('sess_double_space.txt', emit([l.replace(' ', '  ') for l in sess]))
wr('sess_ctrl_in_src.txt', emit([set_field(sess[0], 'src', '127.0.0.1\x01:1')]
                                + sess[1:]))
wr('sess_leading_empty.txt', '\n' + emit(sess))

# ---- show map --------------------------------------------------------------
ml = lines_of('show_map.txt')              # header + 2 maps
wr('map_list_no_header.txt', emit(ml[1:]))
wr('map_list_header_only.txt', emit(ml[:1]))
wr('map_list_bad_id.txt', emit([ml[0], 'x' + ml[1][1:]] + ml[2:]))
wr('map_list_no_close.txt', emit([ml[0], ml[1].replace(') ', ' ', 1)]
                                 + ml[2:]))
wr('map_list_long_file.txt', emit(ml[:2] + [
    ml[2].replace('/tmp/', '/tmp/' + 'd' * 600 + '/', 1)]))
wr('map_list_bad_ver.txt', emit(ml[:2] + [
    ml[2].replace('curr_ver=0', 'curr_ver=abc')]))
wr('map_list_truncated.txt', '\n'.join(ml[:2]) + '\n' + ml[2][:50])
wr('map_list_old.txt', emit([l.split(' curr_ver=')[0] for l in ml]))
wr('map_list_no_desc.txt', emit([ml[0], '3 (/etc/haproxy/x.map)']))
wr('map_list_nul.txt', emit([ml[0], ml[1][:10] + '\0' + ml[1][11:], ml[2]]))

me = lines_of('show_map_hosts.txt')        # 2 entries
wr('map_entries_bad_ref.txt', emit([me[0], 'example.org be_x']))
wr('map_entries_no_value.txt', emit([me[0], me[1].rsplit(' ', 1)[0]]))
wr('map_entries_long_key.txt', emit([me[0], '0x1 ' + 'k' * 300 + ' v']))
wr('map_entries_long_value.txt', emit(['0x1 k ' + 'v' * 300, me[1]]))
wr('map_entries_ctrl.txt', emit([me[0], me[1] + '\x01']))
wr('map_entries_truncated.txt', me[0] + '\n' + me[1][:20])
wr('map_entries_garbage.bin', bytes(random.randrange(1, 256)
                                    for _ in range(300)))
wr('map_entries_empty_value.txt', emit(['0x1 k ']))

# ---- get map ---------------------------------------------------------------
g = lines_of('get_map_found.txt')[0]
wr('get_map_found_maybe.txt', emit([g.replace('found=yes', 'found=maybe')]))
wr('get_map_no_case.txt', emit([g.replace('case=sensitive, ', '')]))
wr('get_map_no_type.txt', emit([g.rsplit(', type=', 1)[0]]))
wr('get_map_key_unknown.txt', emit([g.replace('key="active"', 'key=unknown')]))
wr('get_map_value_none.txt', emit([g.split(', value=')[0] + ', value=none']))
wr('get_map_empty_value.txt', emit([g.replace('"be_blue"', '""')]))
wr('get_map_empty_type.txt', emit([g.replace('type="str"', 'type=""')]))
wr('get_map_truncated.txt', g[:60])
wr('get_map_acl.txt', emit(['type=beg, case=sensitive, match=yes, idx=tree, '
                            'pattern="/api"']))
wr('get_map_no_then_more.txt', emit(['type=str, case=sensitive, found=no, '
                                     'idx=tree']))
wr('get_map_insensitive.txt', emit([g.replace('case=sensitive',
                                              'case=insensitive')]))
wr('get_map_long_value.txt', emit([g.replace('be_blue', 'v' * 300)]))
wr('get_map_opening_quote_only.txt', emit(['type=str, case=sensitive, '
                                           'found=yes, idx=tree, key="k", '
                                           'value=", type="str"']))
# not found on the first expression, found on the second (map_str + map_beg)
wr('get_map_second_found.txt', emit([
    'type=str, case=sensitive, found=no',
    'type=beg, case=sensitive, found=yes, idx=tree, key="www", '
    'value="be_green", type="str"']))
