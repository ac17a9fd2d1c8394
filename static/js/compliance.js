// The compliance guard on the device: a note naming a patient never enters the outbox.
// The patterns come from the server (webapp/capture/compliance.py via /api/v1/reference), so
// there is one list of rules; tests/test_compliance_parity.py checks both agree.
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.ClearpathCompliance = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  function makeChecker(rules) {
    const identifiers = rules.identifiers.map((rule) => ({
      label: rule.label,
      regex: new RegExp(rule.pattern, rule.ignore_case ? "gi" : "g"),
    }));
    const notNames = new Set(rules.not_names);
    const adverse = new RegExp(rules.adverse_event, "gi");

    return function check(note) {
      const found = [];
      for (const rule of identifiers) {
        for (const match of note.matchAll(rule.regex)) {
          const text = (match.length > 1 && match[1] !== undefined ? match[1] : match[0]).trim();
          if (rule.label === "the patient's name" && notNames.has(text.split(/\s+/)[0].toLowerCase())) continue;
          found.push(rule.label + " \u201c" + text + "\u201d");
        }
      }
      const terms = [];
      for (const match of note.matchAll(adverse)) {
        const term = match[0].toLowerCase();
        if (terms.indexOf(term) === -1) terms.push(term);
      }
      return {
        identifiers: found,
        adverseEventTerms: terms,
        refusal: found.length ? rules.refusal_prefix + found.join("; ") + "." : null,
      };
    };
  }

  return { makeChecker: makeChecker };
});
