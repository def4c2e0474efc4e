// Parses every *.json card in a directory with Microsoft's adaptivecards
// library, as Teams' web renderer does, targeting schema 1.4. Any parse or
// validation event (unknown element, invalid property value, missing
// required property, duplicate id, version too new) fails the run.
"use strict";
const fs = require("fs");
const path = require("path");
// The UMD build loads in node without a DOM; the package's "main" is an
// ES module tree that node cannot resolve.
const AC = require("./node_modules/adaptivecards/dist/adaptivecards.js");

const dir = process.argv[2];
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
let problems = 0;
for (const f of files) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
  const ctx = new AC.SerializationContext(AC.Versions.v1_4);
  const card = new AC.AdaptiveCard();
  card.parse(json, ctx);
  const events = [];
  for (let i = 0; i < ctx.eventCount; i++) events.push(ctx.getEventAt(i));
  const results = card.validateProperties();
  events.push(...results.validationEvents);
  if (!AC.isVersionLessOrEqual(card.version, AC.Versions.v1_4)) {
    events.push({ message: "card version " + card.version.toString() + " is newer than 1.4" });
  }
  for (const e of events) {
    problems++;
    console.error(f + ": " + (e.message || JSON.stringify(e)));
  }
}
if (problems > 0) {
  process.exit(1);
}
console.log(files.length + " cards parsed as Adaptive Cards 1.4 without warnings");
