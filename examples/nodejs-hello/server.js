// A small Node.js service as the GPII nodejs role ran it: its port comes from NODEJS_HELLO_TCP_PORT.
// Written for Node.js 4 (the version its .qi.yml asks for).
'use strict';
var http = require('http');
var fs = require('fs');
var ms = require('ms');
var reply = require('./reply');

var port = parseInt(process.env.NODEJS_HELLO_TCP_PORT, 10);
if (!port) {
  console.error('NODEJS_HELLO_TCP_PORT is not set: the nodejs role exports it to the service');
  process.exit(1);
}
var configFile = process.env.CONFIG_FILE || '/etc/nodejs-hello/motd.txt';
// Maintenance mode: the service keeps running but reports itself unhealthy, so no traffic is sent to it.
var maintenance = process.env.NODEJS_HELLO_MAINTENANCE === '1';
var started = Date.now();
// A state that breaks every start (a corrupt cache left in /tmp, which outlives the container's restarts).
if (fs.existsSync('/tmp/nodejs-hello-broken')) {
  console.error('/tmp/nodejs-hello-broken exists: refusing to start');
  process.exit(1);
}

function motd() {
  try { return fs.readFileSync(configFile, 'utf8').trim(); } catch (e) { return ''; }
}

var server = http.createServer(function (req, res) {
  if (req.url === '/healthz') {
    res.writeHead(maintenance ? 503 : 200, { 'Content-Type': 'text/plain' });
    return res.end(maintenance ? 'in maintenance\n' : 'ok\n');
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(reply(process.env, motd(), ms(Date.now() - started))) + '\n');
});

// A slow start (warming caches, connecting to a database) is simulated with NODEJS_HELLO_START_DELAY_MS.
setTimeout(function () {
  server.listen(port, function () {
    console.log('nodejs-hello listening on ' + port + ' (node ' + process.version + ')');
    if (maintenance) { console.log('maintenance mode: /healthz answers 503'); }
  });
}, parseInt(process.env.NODEJS_HELLO_START_DELAY_MS || '0', 10));

// Lifecycle conformance: finish in-flight requests, then exit when the platform asks.
process.on('SIGTERM', function () {
  console.log('SIGTERM: shutting down');
  server.close(function () { process.exit(0); });
  setTimeout(function () { process.exit(0); }, 5000).unref();
});
