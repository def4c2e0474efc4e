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

// Teams' people picker is Input.ChoiceSet with "choices.data" naming one
// of Teams' Graph datasets and an empty "choices": a Teams host extension
// that Teams renders in 1.2+ cards, while the generic library knows
// "choices.data" only from 1.6 on. Such an input is parsed here as the
// plain choice set it extends (one stand-in choice, no "choices.data"); the
// Go test checks the extension itself exactly.
const teamsDatasets = ["graph.microsoft.com/users", "graph.microsoft.com/users?scope=currentContext"];
function asGenericCard(node) {
  if (Array.isArray(node)) return node.map(asGenericCard);
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = asGenericCard(v);
  const dq = node["choices.data"];
  if (node.type === "Input.ChoiceSet" && dq && dq.type === "Data.Query" && teamsDatasets.includes(dq.dataset) &&
      Array.isArray(node.choices) && node.choices.length === 0) {
    delete out["choices.data"];
    out.choices = [{ title: "people picker", value: "people-picker" }];
  }
  return out;
}

const dir = process.argv[2];
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
let problems = 0;
for (const f of files) {
  const json = asGenericCard(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")));
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
