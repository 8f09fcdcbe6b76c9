'use strict';
// The JSON body of a reply: what the app was configured with, and which Node.js runs it.
module.exports = function reply(env, motd, uptime) {
  return {
    greeting: env.GREETING || 'Hello',
    motd: motd,
    env: env.NODE_ENV || '',
    node: process.version,
    uptime: uptime
  };
};
