'use strict';
// Shared by both entry points: the port comes from DISCOVERY_SERVER_TCP_PORT, as the nodejs role exported it;
// the OAuth client credentials come from the secrets role (an env file on a VM, a Kubernetes Secret in a pod).
var http = require('http');
var ms = require('ms');

module.exports = function start(mode) {
  var port = parseInt(process.env.DISCOVERY_SERVER_TCP_PORT, 10);
  var clientId = process.env.GPII_OAUTH2_AUTH_CLIENT_ID;
  var clientSecret = process.env.GPII_OAUTH2_AUTH_CLIENT_SECRET;
  if (!port) {
    console.error('DISCOVERY_SERVER_TCP_PORT is not set');
    process.exit(1);
  }
  if (!clientId || !clientSecret) {
    console.error('GPII_OAUTH2_AUTH_CLIENT_ID and GPII_OAUTH2_AUTH_CLIENT_SECRET are required');
    process.exit(1);
  }
  var started = Date.now();
  http.createServer(function (req, res) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({
      mode: mode,
      oauth2Host: process.env.GPII_OAUTH2_HOST_NAME,
      clientId: clientId,
      // Never the secret itself: only that it is there.
      clientSecretLength: clientSecret.length,
      uptime: ms(Date.now() - started)
    }) + '\n');
  }).listen(port, function () { console.log('discovery-server (' + mode + ') listening on ' + port); });
};
