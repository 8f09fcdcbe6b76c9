'use strict';
// A small library: the kind of project most QI descriptors described (install, then run the tests).
const escapeHtml = require('escape-html');

exports.shout = (text) => escapeHtml(String(text).toUpperCase() + '!');
