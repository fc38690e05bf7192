import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../clock.js';
import { EchoBook } from './echo-book.js';

describe('EchoBook', () => {
  it('hands a value out once', () => {
    const book = new EchoBook<number>(new FakeClock(0));
    book.remember('a', 1);
    assert.equal(book.take('a'), 1);
    assert.equal(book.take('a'), undefined);
    assert.equal(book.size, 0);
  });

  it('keeps a value one generation at least and two at most, on the fake clock', async () => {
    const clock = new FakeClock(0);
    const book = new EchoBook<string>(clock, 1000);
    book.remember('old', 'x');
    await clock.advance(1000);
    book.remember('b', 'y');
    assert.equal(book.size, 2, 'one generation old: still kept');
    await clock.advance(1000);
    book.remember('c', 'z');
    assert.equal(book.take('old'), undefined, 'two generations old: gone');
    assert.equal(book.take('b'), 'y');
    assert.equal(book.take('c'), 'z');
  });

  it('forgets everything on clear', () => {
    const book = new EchoBook<number>(new FakeClock(0));
    book.remember('a', 1);
    book.clear();
    assert.equal(book.take('a'), undefined);
  });
});
