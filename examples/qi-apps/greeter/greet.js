'use strict';
const ms = require('ms');
module.exports = (name, uptimeMs) => ({ greeting: `Hello, ${name}`, uptime: ms(uptimeMs), node: process.version });
