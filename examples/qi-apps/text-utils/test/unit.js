'use strict';
const assert = require('assert');
const { shout } = require('..');

assert.strictEqual(shout('hi <b>'), 'HI &lt;B&gt;!');
console.log('unit tests passed in', process.env.TMPDIR);
