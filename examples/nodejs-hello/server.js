// A small Node.js service in the legacy QI layout: configured by environment and an optional config file.
'use strict';
const http = require('http');
const fs = require('fs');

const port = parseInt(process.env.PORT || '8080', 10);
const greeting = process.env.GREETING || 'Hello';
const configFile = process.env.CONFIG_FILE || '/etc/nodejs-hello/motd.txt';

function motd() {
  try { return fs.readFileSync(configFile, 'utf8').trim(); } catch (e) { return ''; }
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return res.end('ok\n');
  }
  const body = { greeting, motd: motd(), env: process.env.NODE_ENV || '', pid: process.pid };
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
});

server.listen(port, () => console.log(`nodejs-hello listening on ${port}`));

// Lifecycle conformance: finish in-flight requests, then exit when the platform asks.
process.on('SIGTERM', () => {
  console.log('SIGTERM: shutting down');
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
});
