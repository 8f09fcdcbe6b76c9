// One source tree, two services, as in GPII universal: NODE_ENV picks the preferences server (reads preference
// sets from CouchDB) or the flow manager (asks the preferences server).
"use strict";
var fs = require("fs"), http = require("http");

var role = /flowManager/.test(process.env.NODE_ENV || "") ? "flowManager" : "preferencesServer";
var port = Number(role === "flowManager" ? process.env.FLOW_MANAGER_TCP_PORT : process.env.PREFERENCES_SERVER_TCP_PORT);
// The flow manager finds the preferences server in the config file its provisioning role wrote.
var upstream = role === "flowManager" ? flowManagerConfig().preferencesServer + "/preferences/"
    : process.env.GPII_COUCHDB_URL + "/preferences/";

// What the logs and error replies show of it: never the credentials a URL may carry.
var shownUpstream = upstream.replace(/\/\/[^@/]*@/, "//");

function flowManagerConfig() {
    return JSON.parse(fs.readFileSync(process.env.FLOW_MANAGER_CONFIG || "/etc/gpii/flow-manager.json", "utf8"));
}

function answer(res, status, body) {
    res.writeHead(status, {"Content-Type": "application/json"});
    res.end(JSON.stringify(body));
}

http.createServer(function (req, res) {
    if (req.url === "/health" || req.url === "/ready") {
        return answer(res, 200, {isHealthy: true, role: role});
    }
    var m = req.url.match(role === "flowManager" ? /^\/([a-z0-9-]+)\/settings$/ : /^\/preferences\/([a-z0-9-]+)$/);
    if (!m) {
        return answer(res, 404, {error: "not found", role: role});
    }
    http.get(upstream + m[1], function (up) {
        var body = "";
        up.on("data", function (c) { body += c; });
        up.on("end", function () {
            var doc = JSON.parse(body || "{}");
            delete doc._id;
            delete doc._rev;
            answer(res, up.statusCode, role === "flowManager" ? {userToken: m[1], settings: doc} : doc);
        });
    }).on("error", function (e) { answer(res, 502, {error: e.message, upstream: shownUpstream}); });
}).listen(port, function () {
    console.log(role + " listening on " + port + ", upstream " + shownUpstream);
});
