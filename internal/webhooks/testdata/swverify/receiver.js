// A webhook receiver, as a provider would write one with the Standard
// Webhooks specification's JavaScript library: an https server on a
// loopback port that verifies every delivery (signature with each secret
// given, and the timestamp within the library's 5 minutes of now) and
// answers 204, or 400 when the library rejects it.
//
// usage: node receiver.js CERT.pem KEY.pem SECRET [SECRET...]
// stdout: "listening PORT", then "accepted ID TYPE" or "rejected ID REASON"
// for each delivery.
"use strict";
const fs = require("fs");
const https = require("https");
const { Webhook } = require("standardwebhooks");

const [cert, key, ...secrets] = process.argv.slice(2);
const verifiers = secrets.map((s) => new Webhook(s));

const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const id = req.headers["webhook-id"] || "-";
    try {
      let payload;
      // Each secret on its own: during a rotation a receiver holds one.
      for (const wh of verifiers) payload = wh.verify(body, req.headers);
      if (!payload || payload.id !== id) throw new Error("payload id differs from webhook-id");
      console.log("accepted " + id + " " + payload.type);
      res.writeHead(204).end();
    } catch (e) {
      console.log("rejected " + id + " " + String(e.message || e).replace(/\s+/g, " "));
      res.writeHead(400).end();
    }
  });
});
server.listen(0, "127.0.0.1", () => console.log("listening " + server.address().port));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
