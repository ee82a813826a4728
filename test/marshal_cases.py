#!/usr/bin/env python3
"""Generate test/marshal_cases.inc: tiny marshal byte strings, what
libpymarshal must make of them, and what real Pythons make of them.

usage: python3 test/marshal_cases.py > test/marshal_cases.inc

Each case: a name, the bytes, our expected error category ("ok" or a
pymarshal_errcode), the Python that is the reference ("3" = CPython 3.13,
"2" = CPython 2.7) and, when ours deliberately differs, the reason. The
reference Python's verdict (and repr() when it loads) is recorded in the
.inc at generation time; test/marshal_tests.c asserts that we agree with
it unless a deviation is declared.
"""
import os
import shutil
import subprocess
import sys

PY3 = os.path.expanduser('~/.pyenv/versions/3.13.0/bin/python')
PY2 = os.path.expanduser('~/.pyenv/versions/2.7.18/bin/python')


def i32(n):
    return (n & 0xFFFFFFFF).to_bytes(4, 'little')


def r(n):
    return b'r' + i32(n)


NONE5 = b'N' * 5
CASES = [
    # name, bytes, ours, reference, deviation
    ('none', b'N', 'ok', '3', None),
    ('false', b'F', 'ok', '3', None),
    ('true', b'T', 'ok', '3', None),
    ('stopiter', b'S', 'ok', '3', None),
    ('ellipsis', b'.', 'ok', '3', None),
    ('int', b'i' + i32(-7), 'ok', '3', None),
    ('int_max', b'i' + i32(2**31 - 1), 'ok', '3', None),
    ('int64', b'I' + (2**40).to_bytes(8, 'little'), 'ok', '3', None),
    ('int64_min', b'I' + (2**63).to_bytes(8, 'little'), 'ok', '3', None),
    ('long_zero', b'l' + i32(0), 'ok', '3', None),
    ('long_small', b'l' + i32(1) + b'\x05\x00', 'ok', '3', None),
    ('long_neg', b'l' + i32(-2) + b'\x00\x00\x01\x00', 'ok', '3', None),
    ('long_2_63', b'l' + i32(5) + b'\x00\x00' * 4 + b'\x08\x00', 'ok', '3', None),
    ('long_neg_2_63', b'l' + i32(-5) + b'\x00\x00' * 4 + b'\x08\x00', 'ok', '3', None),
    ('long_2_63_minus_1', b'l' + i32(5) + b'\xff\x7f' * 4 + b'\x07\x00', 'ok', '3', None),
    ('long_big', b'l' + i32(-7) + b'\x01\x00' * 6 + b'\x7f\x00', 'ok', '3', None),
    ('long_digit_max', b'l' + i32(1) + b'\xff\x7f', 'ok', '3', None),
    ('long_digit_8000', b'l' + i32(1) + b'\x00\x80', 'EVALUE', '3', None),
    ('long_digit_ffff', b'l' + i32(2) + b'\xff\xff\x01\x00', 'EVALUE', '3', None),
    ('long_unnormalized', b'l' + i32(2) + b'\x01\x00\x00\x00', 'EVALUE', '3', None),
    ('long_unnormalized_neg', b'l' + i32(-1) + b'\x00\x00', 'EVALUE', '3', None),
    ('long_size_min', b'l' + i32(-2**31), 'ELENGTH', '3', None),
    ('long_truncated', b'l' + i32(3) + b'\x01\x00', 'ETRUNCATED', '3', None),
    ('float_text', b'f\x031.5', 'ok', '3', None),
    ('float_text_exp', b'f\x051e+16', 'ok', '3', None),
    ('float_text_inf', b'f\x09-Infinity', 'ok', '3', None),
    ('float_text_nan', b'f\x03nan', 'ok', '3', None),
    ('float_text_nul', b'f\x041.5\x00', 'ok', '3', None),
    ('float_text_blank', b'f\x04 1.5', 'EVALUE', '3', None),
    ('float_text_hex', b'f\x050x1p3', 'EVALUE', '3', None),
    ('float_text_word', b'f\x03abc', 'EVALUE', '3', None),
    ('float_text_empty', b'f\x00', 'EVALUE', '3', None),
    ('float_text_truncated', b'f\x091.5', 'ETRUNCATED', '3', None),
    ('float_text_overflow', b'f\x051e500', 'ok', '3', None),
    ('float_text_underflow', b'f\x061e-400', 'ok', '3', None),
    ('float_text_underscore', b'f\x031_0', 'EVALUE', '3', None),
    ('float_text_dot', b'f\x01.', 'EVALUE', '3', None),
    ('float_text_trailing_dot', b'f\x022.', 'ok', '3', None),
    ('float_text_plus_inf', b'f\x04+inF', 'ok', '3', None),
    ('float_bin', b'g' + bytes.fromhex('000000000000f83f'), 'ok', '3', None),
    ('float_bin_truncated', b'g\x00\x00\x00', 'ETRUNCATED', '3', None),
    ('complex_text', b'x\x011\x04-2.5', 'ok', '3', None),
    ('complex_bin', b'y' + bytes(8) + bytes.fromhex('000000000000f0bf'), 'ok', '3', None),
    ('bytes', b's' + i32(3) + b'a\x00\xff', 'ok', '3', None),
    ('bytes_empty', b's' + i32(0), 'ok', '3', None),
    ('bytes_negative', b's' + i32(-1), 'ELENGTH', '3', None),
    ('bytes_huge', b's' + i32(2**31 - 1) + b'abc', 'ETRUNCATED', '3', None),
    ('bytes_truncated', b's' + i32(5) + b'ab', 'ETRUNCATED', '3', None),
    ('unicode', b'u' + i32(5) + 'caf\xe9'.encode(), 'ok', '3', None),
    ('unicode_astral', b'u' + i32(4) + '\U0001f600'.encode(), 'ok', '3', None),
    ('unicode_surrogate', b'u' + i32(3) + b'\xed\xa0\x80', 'ok', '3', None),
    ('unicode_bad', b'u' + i32(1) + b'\xff', 'EUTF8', '3', None),
    ('unicode_overlong', b'u' + i32(2) + b'\xc0\x80', 'EUTF8', '3', None),
    ('unicode_above_max', b'u' + i32(4) + b'\xf4\x90\x80\x80', 'EUTF8', '3', None),
    ('unicode_cut', b'u' + i32(2) + b'\xe2\x82', 'EUTF8', '3', None),
    ('unicode_negative', b'u' + i32(-5), 'ELENGTH', '3', None),
    ('interned', b't' + i32(3) + b'abc', 'ok', '3', None),
    ('interned_not_utf8', b't' + i32(2) + b'\xff\xfe', 'ok', '2',
     'Python 3 refuses; Python 2 wrote such str, which we deliver as bytes'),
    ('ascii', b'a' + i32(2) + b'hi', 'ok', '3', None),
    ('ascii_latin1', b'a' + i32(2) + b'\xe9\xff', 'ok', '3', None),
    ('ascii_interned', b'A' + i32(1) + b'x', 'ok', '3', None),
    ('short_ascii', b'z\x02\xe9!', 'ok', '3', None),
    ('short_ascii_interned', b'Z\x00', 'ok', '3', None),
    ('short_ascii_truncated', b'z\x05ab', 'ETRUNCATED', '3', None),
    ('tuple', b'(' + i32(2) + b'NT', 'ok', '3', None),
    ('tuple_empty', b'(' + i32(0), 'ok', '3', None),
    ('small_tuple', b')\x03NF.', 'ok', '3', None),
    ('tuple_negative', b'(' + i32(-1), 'ELENGTH', '3', None),
    ('tuple_huge', b'(' + i32(2**31 - 1) + b'NN', 'ETRUNCATED', '3', None),
    ('tuple_truncated', b'(' + i32(3) + b'NN', 'ETRUNCATED', '3', None),
    ('list', b'[' + i32(2) + b'i' + i32(1) + b'[' + i32(0), 'ok', '3', None),
    ('list_negative', b'[' + i32(-2), 'ELENGTH', '3', None),
    ('dict', b'{' + b'i' + i32(1) + b'N' + b'z\x01aT' + b'0', 'ok', '3', None),
    ('dict_empty', b'{0', 'ok', '3', None),
    ('dict_unterminated', b'{NN', 'ETRUNCATED', '3', None),
    ('dict_null_value', b'{N0NN0', 'ok', '3', None),
    ('dict_null_value_mid', b'{' + b'i' + i32(1) + b'i' + i32(2) + b'N0', 'ok', '3', None),
    ('dict_null_value_in_list', b'[' + i32(2) + b'{N0N0' + b'i' + i32(5), 'ok', '3', None),
    ('dict_list_key', b'{[' + i32(0) + b'N0', 'ETYPE', '3', None),
    ('dict_dict_key', b'{{0N0', 'ETYPE', '3', None),
    ('dict_set_key', b'{<' + i32(0) + b'N0', 'ETYPE', '3', None),
    ('dict_frozenset_key', b'{>' + i32(0) + b'N0', 'ok', '3', None),
    ('dict_tuple_list_key', b'{(' + i32(1) + b'[' + i32(0) + b'N0', 'ETYPE', '3', None),
    ('dict_list_key_null_value', b'{[' + i32(0) + b'0', 'ok', '3', None),
    ('dict_ref_list_key', b'[' + i32(2) + b'\xdb' + i32(0) + b'{' + r(0) + b'N0', 'ETYPE', '3', None),
    ('dict_self_tuple_key', b'{\xa8' + i32(1) + r(0) + b'N0', 'ETYPE', '3', None),
    ('set_list_item', b'<' + i32(1) + b'[' + i32(0), 'ETYPE', '3', None),
    ('frozenset_dict_item', b'>' + i32(1) + b'{0', 'ETYPE', '3', None),
    ('dict_null_value_py2', b'{N0NN0', 'ok', '2', None),
    ('set', b'<' + i32(2) + b'i' + i32(1) + b'i' + i32(2), 'ok', '3', None),
    ('frozenset', b'>' + i32(1) + b'N', 'ok', '3', None),
    ('frozenset_empty', b'>' + i32(0), 'ok', '3', None),
    ('set_negative', b'<' + i32(-1), 'ELENGTH', '3', None),
    ('null_top', b'0', 'ETYPE', '3', None),
    ('null_in_tuple', b'(' + i32(1) + b'0', 'ETYPE', '3', None),
    ('null_in_list', b'[' + i32(1) + b'0', 'ETYPE', '3', None),
    ('empty_input', b'', 'ETRUNCATED', '3', None),
    ('unknown_code', b'?', 'ETYPE', '3', None),
    ('unknown_code_high', b'\xff', 'ETYPE', '3', None),
    ('trailing_bytes', b'NNN', 'ok', '3', None),
    ('ref_flag_on_none', b'(' + i32(2) + b'\xce' + r(0), 'EREF', '3', None),
    ('ref_to_int', b')\x02\xe9' + i32(5) + r(0), 'ok', '3', None),
    ('ref_to_str', b')\x03\xda\x01x' + r(0) + r(0), 'ok', '3', None),
    ('ref_to_tuple', b')\x02\xa9\x01N' + r(0), 'ok', '3', None),
    ('ref_list_cycle', b'\xdb' + i32(1) + r(0), 'ok', '3', None),
    ('ref_dict_cycle', b'\xfbz\x01a' + r(0) + b'0', 'ok', '3', None),
    ('ref_frozenset_open', b'\xbe' + i32(1) + r(0), 'EREF', '3', None),
    ('ref_frozenset_done', b')\x02\xbe' + i32(1) + b'N' + r(0), 'ok', '3', None),
    ('ref_out_of_range', b'(' + i32(2) + b'\xe9' + i32(1) + r(1), 'EREF', '3', None),
    ('ref_negative', r(-1), 'EREF', '3', None),
    ('ref_empty_table', r(0), 'EREF', '3', None),
    ('ref_truncated', b'r\x00\x00', 'ETRUNCATED', '3', None),
    ('ref_flag_on_ref', b')\x03\xe9' + i32(5) + b'\xf2' + i32(0) + r(1), 'EREF', '3', None),
    ('py2_interned_ref', b'(' + i32(2) + b't' + i32(2) + b'ab' + b'R' + i32(0), 'ok', '2', None),
    ('py2_interned_ref_bad', b'(' + i32(1) + b'R' + i32(0), 'EREF', '2', None),
    ('slice', b':NNN', 'ok', None, 'CPython 3.14 only (none installed)'),
    ('frozendict', b'}' + i32(1) + b'z\x01kN', 'ok', None, 'CPython 3.15 only (none installed)'),
    ('frozendict_negative', b'}' + i32(-1), 'ELENGTH', None, 'CPython 3.15 only'),
    ('slice_ref_open', b'\xba' + b'N' + r(0) + b'N', 'EREF', None, 'CPython 3.14 only'),
    ('slice_ref_done', b')\x02\xbaNNN' + r(0), 'ok', None, 'CPython 3.14 only'),
    ('frozendict_ref_open', b'\xfd' + i32(1) + b'z\x01k' + r(0), 'EREF', None,
     'CPython 3.15 only'),
    ('frozendict_truncated', b'}' + i32(2) + b'NN', 'ETRUNCATED', None, 'CPython 3.15 only'),
]

VERDICT = r'''
import marshal, sys
data = bytes.fromhex(sys.argv[1]) if sys.version_info[0] >= 3 else sys.argv[1].decode('hex')
try:
    v = marshal.loads(data)
    r = repr(v)
    sys.stdout.write('ok\t' + r)
except Exception as e:
    sys.stdout.write('err\t%s: %s' % (type(e).__name__, e))
'''


def verdict(py, data):
    if not py or not os.path.exists(py):
        return None, ''
    out = subprocess.run([py, '-c', VERDICT, data.hex()], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT).stdout.decode('utf-8', 'replace')
    ok, _, text = out.partition('\t')
    return ok == 'ok', text


def c_str(b):
    return '"' + ''.join('\\x%02x' % c for c in b) + '"'


def c_text(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'


CODE = r'''
import marshal, sys
src = 'x = 1\ndef outer(a, b=2, *args, **kw):\n    c = a + b\n    def inner(d):\n        return c + d\n    return inner(3)\n'
co = [c for c in compile(src, 'sample_mod.py', 'exec').co_consts if hasattr(c, 'co_code')][0]
data = marshal.dumps(co)
hexed = data.hex() if sys.version_info[0] >= 3 else data.encode('hex')
f = [co.co_argcount, getattr(co, 'co_posonlyargcount', 0), getattr(co, 'co_kwonlyargcount', 0),
     co.co_nlocals, co.co_stacksize, co.co_flags, co.co_firstlineno]
sys.stdout.write('%s %s %s %s' % (hexed, co.co_name, co.co_filename, ' '.join(map(str, f))))
'''

VALUES_V2 = r'''
import marshal, sys
vals = [0, -5, 2**31, -2**40, 2**70, 1.5, -0.0, 2j, (1, (2, 3)), [None, True, False],
        {1: 2}, u'caf\xe9', b'raw', frozenset([7]), set([8]), Ellipsis, StopIteration]
out = []
for v in vals:
    data = marshal.dumps(v, 2)
    out.append(data.hex() if sys.version_info[0] >= 3 else data.encode('hex'))
sys.stdout.write(' '.join(out))
'''

LAYOUT = {'2.7': 'PY27', '3.6': 'PY30', '3.7': 'PY30', '3.8': 'PY38', '3.9': 'PY38',
          '3.10': 'PY38', '3.11': 'PY311', '3.12': 'PY311', '3.13': 'PY311',
          'pypy3': 'PY38'}


def installed():
    root = os.path.expanduser('~/.pyenv/versions')
    for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        short = '.'.join(name.split('.')[:2])
        if short in LAYOUT:
            yield short, os.path.join(root, name, 'bin', 'python')
    pypy = shutil.which('pypy3')
    if pypy:
        yield 'pypy3', pypy


def emit_codes():
    print('#ifdef MARSHAL_CODE_CASES')
    print('/* { Python, layout, bytes, length, co_name, co_filename, argcount,')
    print(' *   posonlyargcount, kwonlyargcount, nlocals, stacksize, flags, firstlineno } */')
    for short, py in installed():
        out = subprocess.run([py, '-c', CODE], stdout=subprocess.PIPE).stdout.decode()
        hexed, name, filename, *f = out.split()
        data = bytes.fromhex(hexed)
        print('{%s, PYMARSHAL_CODE_%s, %s, %d, %s, %s, %s},' % (
            c_text(short), LAYOUT[short], c_str(data), len(data), c_text(name),
            c_text(filename), ', '.join(f)))
    print('#endif')


def emit_dumps():
    print('#ifdef MARSHAL_DUMPS_CASES')
    print('/* marshal.dumps(v, 2) by each Python: { Python, bytes, length } */')
    for short, py in installed():
        if short not in ('2.7', '3.13'):
            continue
        out = subprocess.run([py, '-c', VALUES_V2], stdout=subprocess.PIPE).stdout.decode()
        for hexed in out.split():
            data = bytes.fromhex(hexed)
            print('{%s, %s, %d},' % (c_text(short), c_str(data), len(data)))
    print('#endif')


def main():
    emit_codes()
    emit_dumps()
    print('#ifdef MARSHAL_BYTE_CASES')
    print('/* Generated by test/marshal_cases.py from CPython %s: do not edit.' %
          ('3.13.0 and 2.7.18'))
    print(' * { name, bytes, length, expected code, reference Python ("3", "2" or ""),')
    print(' *   that Python loads it (1/0/-1 unknown), its repr or error, deviation } */')
    for name, data, ours, ref, dev in CASES:
        py = {'3': PY3, '2': PY2}.get(ref)
        ok, text = verdict(py, data)
        code = 'PYMARSHAL_OK' if ours == 'ok' else 'PYMARSHAL_' + ours
        if ok is not None and dev is None and ok != (ours == 'ok'):
            sys.exit('%s: Python %s says %s, the table says %s' % (name, ref, text, ours))
        print('{%s, %s, %d, %s, %s, %d, %s, %s},' % (
            c_text(name), c_str(data), len(data), code, c_text(ref or ''),
            -1 if ok is None else int(ok), c_text(text[:200]), c_text(dev or '')))
    print('#endif')


if __name__ == '__main__':
    main()
