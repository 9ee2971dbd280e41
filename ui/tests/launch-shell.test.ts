// Shell-like splitting of the launch form's command line, and KEY=VALUE lines.
import { describe, expect, it } from 'vitest'
import { joinArgs, parseKeyValues, splitArgs } from '../src/views/launch/shell'

describe('splitArgs', () => {
  const check = (line: string, want: string[]) => expect(splitArgs(line)).toEqual(want)

  it('splits on any run of whitespace', () => {
    check('python  train.py\t--lr 3e-4\n--seed 1', ['python', 'train.py', '--lr', '3e-4', '--seed', '1'])
    check('   ', [])
    check('', [])
  })
  it('keeps single quotes literal', () => {
    check(`echo 'a b' '$HOME' 'x\\y'`, ['echo', 'a b', '$HOME', 'x\\y'])
  })
  it('escapes only " \\ $ ` inside double quotes', () => {
    check(`sh -c "echo \\"hi\\" \\$X \\n"`, ['sh', '-c', 'echo "hi" $X \\n'])
  })
  it('joins adjacent quoted parts into one word', () => {
    check(`--name='my run'"-2"x`, ['--name=my run-2x'])
  })
  it('keeps empty quoted arguments', () => {
    check(`prog '' ""`, ['prog', '', ''])
  })
  it('escapes with a backslash outside quotes; backslash-newline continues', () => {
    check('a\\ b c\\\nd', ['a b', 'cd'])
  })
  it('keeps placeholders and variables as typed', () => {
    check('train --lr {lr} --out $OUT/{seed}', ['train', '--lr', '{lr}', '--out', '$OUT/{seed}'])
  })
  it('rejects unterminated quotes and a trailing backslash', () => {
    expect(() => splitArgs(`echo 'a`)).toThrow(/single quote/)
    expect(() => splitArgs(`echo "a`)).toThrow(/double quote/)
    expect(() => splitArgs('echo a\\')).toThrow(/backslash/)
  })
  it('round-trips through joinArgs', () => {
    for (const args of [['a', 'b c', "it's", '', '{lr}', '$X', 'x"y', 'a\\b']]) expect(splitArgs(joinArgs(args))).toEqual(args)
  })
})

describe('parseKeyValues', () => {
  it('reads KEY=VALUE lines, skipping blanks and comments', () => {
    expect(parseKeyValues('A=1\n\n# note\n B = x=y \nEMPTY=')).toEqual({ values: { A: '1', B: 'x=y', EMPTY: '' }, errors: [] })
  })
  it('says which line is wrong', () => {
    const r = parseKeyValues('A=1\nnope\n1X=2\nA=3')
    expect(r.errors).toEqual([
      'line 2: `nope` has no `=` (expected KEY=VALUE)',
      'line 3: `1X` is not a valid variable name',
      'line 4: `A` is given twice',
    ])
  })
})
