// The data loader: puts the preference sets PREFERENCE_SETS names (all of data/preferences/ when unset) into
// CouchDB's preferences database (a new revision of a set that is there already), then exits: a Job in the cluster.
"use strict";
var fs = require("fs"), http = require("http"), path = require("path");

var db = process.env.GPII_COUCHDB_URL + "/preferences/";
// What the log shows of it: never the credentials the URL carries.
var shownDb = db.replace(/\/\/[^@/]*@/, "//");
var dir = path.join(__dirname, "data", "preferences");
var named = (process.env.PREFERENCE_SETS || "").split(",").filter(Boolean);
var sets = fs.readdirSync(dir).filter(function (f) {
    return /\.json$/.test(f) && (!named.length || named.indexOf(f.replace(/\.json$/, "")) >= 0);
});

function send(method, id, body, done) {
    var req = http.request(db + id, {method: method, headers: {"Content-Type": "application/json"}}, function (res) {
        var text = "";
        res.on("data", function (c) { text += c; });
        res.on("end", function () { done(res.statusCode, text ? JSON.parse(text) : {}); });
    });
    req.on("error", function (e) { console.error("cannot reach " + shownDb + ": " + e.message); process.exit(1); });
    req.end(body && JSON.stringify(body));
}

var left = sets.length;
sets.forEach(function (f) {
    var id = f.replace(/\.json$/, ""), doc = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    send("GET", id, null, function (status, old) {
        if (status === 200) { doc._rev = old._rev; }
        send("PUT", id, doc, function (putStatus) {
            console.log("loaded " + id + ": HTTP " + putStatus);
            if (putStatus !== 201) { process.exit(1); }
            if (--left === 0) { process.exit(0); }
        });
    });
});
