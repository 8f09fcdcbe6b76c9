'use strict';
const assert = require('assert');
const greet = require('../greet');

assert.deepStrictEqual(greet('QI', 120000), { greeting: 'Hello, QI', uptime: '2m', node: process.version });
console.log('greeter tests passed on', process.version);
