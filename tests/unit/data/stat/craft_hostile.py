#!/usr/bin/env python3
# craft_hostile.py - derive the hostile and variant fixtures of test_stat.c
# from the replies captured on a real HAProxy 2.6.12 (see README.md).
# Run from this directory; it rewrites the stat_*, ss_* and info_* files.
import random

HERE = '.'


def rd(name):
    with open(f'{HERE}/{name}', 'rb') as f:
        return f.read()


def wr(name, data):
    with open(f'{HERE}/{name}', 'wb') as f:
        f.write(data)


# ---- show stat (CSV) ------------------------------------------------------
csv = rd('show_stat_be_app.csv').decode()
lines = csv.split('\n')            # header, 14 rows, '', ''
hdr = lines[0][2:].split(',')      # 129 names, the last one empty
rows = [l.split(',') for l in lines[1:15]]   # be_app has no quoted field
assert all(len(r) == len(hdr) for r in rows)
col = {name: i for i, name in enumerate(hdr) if name}


def emit(h, rs, eol='\n'):
    out = '# ' + ','.join(h) + eol
    out += ''.join(','.join(r) + eol for r in rs)
    return (out + eol).encode()


def cut_col(name):
    i = col[name]
    return ([x for j, x in enumerate(hdr) if j != i],
            [[x for j, x in enumerate(r) if j != i] for r in rows])


def with_field(rowno, name, value):
    rs = [list(r) for r in rows]
    rs[rowno][col[name]] = value
    return rs


# truncated in the middle of line 5 (dead1), as a short read would leave it
t = csv.split('\n')
wr('stat_truncated.csv', ('\n'.join(t[:4]) + '\n' + t[4][:60]).encode())
wr('stat_missing_column.csv', emit(*cut_col('status')))
# every named column in reverse order; the trailing empty one stays last
perm = list(range(len(hdr) - 1))[::-1] + [len(hdr) - 1]
wr('stat_reordered.csv',
   emit([hdr[i] for i in perm], [[r[i] for i in perm] for r in rows]))
# a quoted unknown column after svname, another one at the end
h2 = hdr[:2] + ['future_a'] + hdr[2:-1] + ['future_b', '']
r2 = [r[:2] + ['"q,""x"""'] + r[2:-1] + ['7', ''] for r in rows]
wr('stat_extra_columns.csv', emit(h2, r2))
rs = [list(r) for r in rows]
rs[1] = rs[1][:12]                  # line 3: 12 fields
wr('stat_too_few_fields.csv', emit(hdr, rs))
rs = [list(r) for r in rows]
rs[0] = rs[0] + ['x']               # line 2: 130 fields
wr('stat_too_many_fields.csv', emit(hdr, rs))
wr('stat_field_10k_name.csv', emit(hdr, with_field(1, 'svname', 'w' * 10240)))
wr('stat_field_10k_unused.csv',
   emit(hdr, with_field(0, 'last_chk', 'x' * 10240)))
rnd = random.Random(2606)
wr('stat_garbage.bin', bytes(rnd.randrange(1, 256) for _ in range(512)))
b = bytearray(emit(hdr, rows))
pos = b.index(b'\n', b.index(b'\n', b.index(b'\n') + 1) + 1) + 10
b[pos] = 0                          # inside line 4
wr('stat_nul.csv', bytes(b))
wr('stat_non_numeric.csv', emit(hdr, with_field(2, 'scur', 'abc')))
wr('stat_long_name.csv', emit(hdr, with_field(0, 'pxname', 'b' * 200)))
wr('stat_name_127.csv', emit(hdr, with_field(0, 'svname', 'n' * 127)))
wr('stat_name_128.csv', emit(hdr, with_field(0, 'svname', 'n' * 128)))
wr('stat_bad_quote.csv', emit(hdr, with_field(0, 'last_chk', '"open,')))
wr('stat_quoted_name.csv', emit(hdr, with_field(0, 'svname', '"we""b,1"')))
wr('stat_no_trailing_comma.csv', emit(hdr[:-1], [r[:-1] for r in rows]))
wr('stat_crlf.csv', emit(hdr, rows, '\r\n'))

# ---- show servers state ---------------------------------------------------
ss = rd('show_servers_state_be_app.txt').decode()
sl = ss.split('\n')                 # '1', header, 14 rows, '', ''
sh = sl[1][2:].split(' ')
sr = [l.split(' ') for l in sl[2:16]]
scol = {name: i for i, name in enumerate(sh)}


def ss_emit(h, rs, version='1'):
    return (version + '\n# ' + ' '.join(h) + '\n' +
            ''.join(' '.join(r) + '\n' for r in rs) + '\n').encode()


def ss_with(rowno, name, value):
    rs = [list(r) for r in sr]
    rs[rowno][scol[name]] = value
    return rs


wr('ss_version2.txt', ss_emit(sh, sr, '2'))
wr('ss_truncated.txt', ('\n'.join(sl[:5]) + '\n' + sl[5][:20]).encode())
wr('ss_op_state_9.txt', ss_emit(sh, ss_with(1, 'srv_op_state', '9')))
wr('ss_non_numeric.txt', ss_emit(sh, ss_with(2, 'srv_uweight', 'ten')))
wr('ss_admin_negative.txt', ss_emit(sh, ss_with(0, 'srv_admin_state', '-1')))
wr('ss_long_name.txt', ss_emit(sh, ss_with(0, 'srv_name', 's' * 200)))
i = scol['srv_admin_state']
wr('ss_missing_column.txt',
   ss_emit([x for j, x in enumerate(sh) if j != i],
           [[x for j, x in enumerate(r) if j != i] for r in sr]))
wr('ss_reordered.txt', ss_emit(sh[::-1], [r[::-1] for r in sr]))
wr('ss_extra_column.txt',
   ss_emit(sh[:3] + ['srv_future'] + sh[3:], [r[:3] + ['x'] + r[3:] for r in sr]))
rs = [list(r) for r in sr]
rs[3] = rs[3] + ['extra']           # line 6
wr('ss_too_many_fields.txt', ss_emit(sh, rs))
wr('ss_no_header.txt', ('1\n' + ''.join(' '.join(r) + '\n' for r in sr) +
                        '\n').encode())
b = bytearray(ss_emit(sh, sr))
b[b.index(b'dead2')] = 0            # line 7
wr('ss_nul.txt', bytes(b))
wr('ss_garbage.bin', bytes(rnd.randrange(1, 256) for _ in range(300)))

# ---- show info --------------------------------------------------------------
info = rd('show_info.txt').decode().split('\n')
wr('info_missing_pid.txt',
   '\n'.join(l for l in info if not l.startswith('Pid:')).encode())
wr('info_non_numeric_pid.txt',
   '\n'.join('Pid: 40x2' if l.startswith('Pid:') else l for l in info).encode())
wr('info_no_colon.txt', '\n'.join(info[:2] + ['garbage line'] + info[2:]).encode())
wr('info_long_version.txt',
   '\n'.join('Version: ' + 'v' * 100 if l.startswith('Version:') else l
             for l in info).encode())
b = bytearray('\n'.join(info).encode())
b[b.index(b'Process_num') + 3] = 0  # line 6
wr('info_nul.txt', bytes(b))
