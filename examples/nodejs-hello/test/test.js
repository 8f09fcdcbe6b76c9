'use strict';
// The app's own tests, run by QI's `commands` against the built image.
var assert = require('assert');
var ms = require('ms');
var reply = require('../reply');

var body = reply({ GREETING: 'Hi', NODE_ENV: 'test' }, 'motd', ms(61000));
assert.strictEqual(body.greeting, 'Hi');
assert.strictEqual(body.uptime, '1m');
assert.strictEqual(body.node, process.version);
if (process.env.QI_FAIL_TEST) {
  assert.fail('intentional test failure ' + process.env.QI_FAIL_TEST);
}
console.log('3 assertions passed on node ' + process.version);
