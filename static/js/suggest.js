// Barrier suggestion on the device: the same BM25F ranking as webapp/suggest/ranker.py, over
// the index the server exports (/api/v1/suggest-index). Rule for rule the same tokenizer,
// shorthand expansion, stemming and one-edit typo correction; tests/test_suggest_parity.py
// runs both on the labelled notes and requires identical top-3 results.
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.ClearpathSuggest = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  function words(text) {
    const folded = text.toLowerCase().replace(/[/'\u2019]/g, "");
    return folded.match(/[a-z0-9]+/g) || [];
  }

  function makeRanker(index) {
    const stopwords = new Set(index.stopwords);
    const suffixes = index.suffixes;
    const idf = index.idf;
    const vocabulary = Object.keys(idf);

    function stem(word) {
      for (const suffix of suffixes) {
        if (word.endsWith(suffix) && word.length - suffix.length >= 4) {
          let stemmed = word.slice(0, -suffix.length);
          if (suffix === "ies" || suffix === "ied") stemmed += "y";
          return stemmed;
        }
      }
      return word;
    }

    function analyseQuery(text) {
      const out = [];
      for (const word of words(text)) {
        const expansion = index.expansions[word];
        if (expansion) expansion.split(" ").forEach((w) => out.push(stem(w)));
        else if (!stopwords.has(word)) out.push(stem(word));
      }
      return out;
    }

    function withinOneEdit(a, b) {
      if (a === b) return true;
      if (Math.abs(a.length - b.length) > 1) return false;
      if (a.length === b.length) {
        const diff = [];
        for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) diff.push(i);
        if (diff.length === 1) return true;
        return diff.length === 2 && diff[1] === diff[0] + 1 &&
          a[diff[0]] === b[diff[1]] && a[diff[1]] === b[diff[0]];
      }
      if (a.length > b.length) [a, b] = [b, a];
      let i = 0;
      while (i < a.length && a[i] === b[i]) i += 1;
      return a.slice(i) === b.slice(i + 1);
    }

    function correct(term) {
      if (Object.prototype.hasOwnProperty.call(idf, term)) return term;
      if (term.length < index.typo_min_length) return null;
      let best = null;
      for (const candidate of vocabulary) {
        if (Math.abs(candidate.length - term.length) > 1 || !withinOneEdit(term, candidate)) continue;
        // The rarer word wins; ties go to the later word in code-point order, as in Python.
        if (best === null || idf[candidate] > idf[best] ||
            (idf[candidate] === idf[best] && candidate > best)) best = candidate;
      }
      return best;
    }

    return function rank(text, limit) {
      const counts = new Map();
      for (const term of analyseQuery(text)) {
        const known = correct(term);
        if (known) counts.set(known, (counts.get(known) || 0) + 1);
      }
      if (!counts.size) return [];
      const scored = [];
      index.tf.forEach((tf, position) => {
        const norm = index.k1 * (1 - index.b + index.b * index.lengths[position] / index.average_length);
        let score = 0;
        counts.forEach((count, term) => {
          const frequency = tf[term];
          if (frequency) score += count * idf[term] * frequency * (index.k1 + 1) / (frequency + norm);
        });
        if (score > 0) scored.push([score, position]);
      });
      scored.sort((x, y) => y[0] - x[0] || (index.codes[x[1]] < index.codes[y[1]] ? -1 : 1));
      return scored.slice(0, limit || 5).map(([score, position]) => ({
        code: index.codes[position],
        name: index.names[position],
        score: Math.round(score * 1000) / 1000,
      }));
    };
  }

  return { makeRanker: makeRanker };
});
