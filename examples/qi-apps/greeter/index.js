'use strict';
// A service in an apps: .qi.yml; its port comes from GREETER_TCP_PORT, as the nodejs role exported it.
const http = require('http');
const greet = require('./greet');

const port = parseInt(process.env.GREETER_TCP_PORT, 10);
if (!port) {
  console.error('GREETER_TCP_PORT is not set');
  process.exit(1);
}
const started = Date.now();
const server = http.createServer((req, res) => {
  const name = new URL(req.url, 'http://x').searchParams.get('name') || 'world';
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(greet(name, Date.now() - started)) + '\n');
});
server.listen(port, () => console.log(`greeter listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
