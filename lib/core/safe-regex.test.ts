import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSafeRegex, SAFE_REGEX_LIMITS, testSafeRegex } from './safe-regex.js';

describe('checkSafeRegex', () => {
  it('accepts the patterns predicates are written with', () => {
    for (const ok of [
      '^v2(-beta)?$',
      '^Mozilla/5\\.0 .*Chrome/1[2-9][0-9]',
      '^(beta|alpha)-[a-z0-9]+$',
      '[0-9]{4}',
      'a{2}b',
      '(?:x|y)?z',
      '(?<tier>gold|silver)',
      '[(]+x',
    ]) {
      assert.equal(checkSafeRegex(ok), undefined, ok);
    }
  });

  it('refuses catastrophic and unbounded patterns, with the reason (hostile cases)', () => {
    const cases: [string, RegExp][] = [
      ['(a+)+$', /group may only be made optional/],
      ['(a|aa)*$', /group may only be made optional/],
      ['(?:ab){2,}', /group may only be made optional/],
      ['(x)\\1', /backreferences/],
      ['(?<n>x)\\k<n>', /backreferences/],
      ['a(?=b)', /lookaround/],
      ['(?<!a)b', /lookaround/],
      ['\\d*\\d*\\d*x', /at most 2 variable quantifiers/],
      ['a**', /quantifier on a quantifier/],
      ['*a', /nothing to repeat/],
      ['(a', /unbalanced \(/],
      ['a)', /unbalanced \)/],
      ['[a-', /unterminated character class/],
      ['a\\', /lone backslash/],
      ['', /must not be empty/],
      ['x'.repeat(SAFE_REGEX_LIMITS.maxLength + 1), /at most 128 characters/],
      ['[z-a]', /not a valid regular expression/],
    ];
    for (const [src, why] of cases) assert.match(checkSafeRegex(src) ?? 'accepted', why, src);
  });

  it('never matches a value longer than the input cap', () => {
    const re = /^a+$/;
    assert.equal(testSafeRegex(re, 'a'.repeat(SAFE_REGEX_LIMITS.maxInputLength)), true);
    assert.equal(testSafeRegex(re, 'a'.repeat(SAFE_REGEX_LIMITS.maxInputLength + 1)), false);
  });

  it('freezes its limits', () => {
    assert.ok(Object.isFrozen(SAFE_REGEX_LIMITS));
  });
});
