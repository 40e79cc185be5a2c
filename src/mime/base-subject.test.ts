import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unicodeCasemap, baseSubject } from './base-subject.js';

const base = (s: string) => baseSubject(s).base;
const reply = (s: string) => baseSubject(s).replyOrForward;

describe('baseSubject (RFC 5256 2.1)', () => {
  it('removes Re:, Fwd:, Fw: leaders, any case, repeated, with blobs between', () => {
    assert.equal(base('Re: hello'), 'hello');
    assert.equal(base('RE: Re: re: hello'), 'hello');
    assert.equal(base('Fwd: hello'), 'hello');
    assert.equal(base('FW: hello'), 'hello');
    assert.equal(base('fw:hello'), 'hello');
    assert.equal(base('Re [2]: hello'), 'hello');
    assert.equal(base('Re[3]:  Fwd: hello'), 'hello');
    assert.equal(base('[list] Re: [other] Fwd: hello'), 'hello');
    assert.ok(reply('Re: hello'));
    assert.ok(reply('fwd: hello'));
    assert.ok(!reply('hello'));
  });

  it('keeps words that only start like a leader', () => {
    assert.equal(base('Report: done'), 'Report: done');
    assert.equal(base('Rebase: today'), 'Rebase: today');
    assert.equal(base('Fwdx: a'), 'Fwdx: a');
    assert.equal(base('Re hello'), 'Re hello');
    assert.ok(!reply('Report: done'));
  });

  it('removes blob prefixes like [list] only when something is left', () => {
    assert.equal(base('[list] hello'), 'hello');
    assert.equal(base('[list]   [other] hello'), 'hello');
    assert.equal(base('[list]'), '[list]');
    assert.equal(base('[a] [b]'), '[b]');
    assert.equal(base('[unclosed hello'), '[unclosed hello');
    // A blob is not a reply marker.
    assert.ok(!reply('[list] hello'));
  });

  it('removes (fwd) trailers and trailing space, repeatedly', () => {
    assert.equal(base('hello (fwd)'), 'hello');
    assert.equal(base('hello (FWD) (fwd)  '), 'hello');
    assert.equal(base('hello(fwd)'), 'hello');
    assert.ok(reply('hello (fwd)'));
  });

  it('unwraps [fwd: ...] and starts over', () => {
    assert.equal(base('[fwd: hello]'), 'hello');
    assert.equal(base('[Fwd: Re: hello (fwd)]'), 'hello');
    assert.equal(base('Re: [fwd: [fwd: hello]]'), 'hello');
    assert.ok(reply('[fwd: hello]'));
    // Not a wrapper unless it ends with "]": then it is a blob, removed as such (step 4).
    assert.equal(base('[fwd: hello] world'), 'world');
    assert.ok(!reply('[fwd: hello] world'));
  });

  it('decodes encoded words first, then collapses whitespace', () => {
    assert.equal(base('=?utf-8?q?Re=3A_caf=C3=A9?='), 'café');
    assert.equal(base('=?iso-8859-1?q?Fwd:?= =?iso-8859-1?q?_=E9t=E9?='), 'été');
    assert.equal(base('Re:\t hello \t  world'), 'hello world');
    assert.equal(base(' \t '), '');
    assert.equal(base(''), '');
  });

  it('leaves an empty subject empty, even after leaders', () => {
    assert.equal(base('Re:'), '');
    assert.equal(base('Re: (fwd)'), '');
    assert.equal(base('[fwd: ]'), '');
  });

  it('i;unicode-casemap: title case, then decomposed; i;ascii-casemap for ASCII', () => {
    assert.equal(unicodeCasemap('Hello, world [1]'), 'HELLO, WORLD [1]');
    assert.equal(unicodeCasemap('été'), 'E\u0301TE\u0301');
    assert.equal(unicodeCasemap('Émile'), unicodeCasemap('émile'));
    // One character to one: no "SS" for ß; compatibility forms decomposed after title casing.
    assert.equal(unicodeCasemap('straße'), 'STRAßE');
    assert.equal(unicodeCasemap('ﬁne'), 'fiNE');
  });
});
