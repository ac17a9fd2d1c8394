// Barrier suggestion on the device: the same BM25F ranking as webapp/suggest/ranker.py, over
// the index the server exports (/api/v1/suggest-index). Rule for rule the same analyser
// (shorthand expansion, stopwords, light stemming) and one-typo correction; field weights and
// length normalisation are already folded into the exported term frequencies.
// tests/test_suggest_parity.py runs both on the labelled notes and requires identical top-3.
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.ClearpathSuggest = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  function words(text) {
    const folded = text.toLowerCase().replace(/[/'\u2019]/g, "");
    return folded.match(/[a-z0-9]+/g) || [];
  }

  function stem(word, suffixes) {
    if (word.length <= 3) return word;
    for (const suffix of suffixes) {
      if (word.endsWith(suffix) && word.length - suffix.length >= (suffix === "s" ? 3 : 4)) {
        if (suffix === "s" && "su".includes(word[word.length - 2])) return word;
        word = word.slice(0, -suffix.length);
        if (suffix === "ies" || suffix === "ied") word += "i";
        break;
      }
    }
    if (word.length > 4 && word.endsWith("e")) word = word.slice(0, -1);
    const last = word[word.length - 1];
    if (word.length > 4 && last === word[word.length - 2] && !"sz".includes(last)) {
      word = word.slice(0, -1);
    }
    if (word.length > 3 && word.endsWith("y")) word = word.slice(0, -1) + "i";
    return word;
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

  const sameLetters = (a, b) => [...a].sort().join("") === [...b].sort().join("");

  function makeRanker(index) {
    const stopwords = new Set(index.stopwords);
    const expansions = index.expansions;
    const idf = index.idf;
    const vocabulary = Object.keys(idf);
    const minLength = index.typo_min_length;

    function expansionOf(word) {
      if (has(expansions, word)) return expansions[word];
      const singular = word.slice(0, -1);
      return word.endsWith("s") && has(expansions, singular) ? expansions[singular] : null;
    }

    // The longest shorthand key, in words ("lost to follow up").
    const longestKey = Math.max(...Object.keys(expansions).map((key) => key.split(" ").length));

    function analyse(text) {
      const tokens = words(text);
      const out = [];
      let i = 0;
      while (i < tokens.length) {
        let expansion = null;
        let span = 1;
        for (let n = Math.min(longestKey, tokens.length - i); n > 1; n -= 1) {
          const key = tokens.slice(i, i + n).join(" ");
          if (has(expansions, key)) {
            expansion = expansions[key];
            span = n;
            break;
          }
        }
        if (span === 1) expansion = expansionOf(tokens[i]);
        if (expansion) {
          for (const w of expansion.split(" ")) if (!stopwords.has(w)) out.push(stem(w, index.suffixes));
        } else if (!stopwords.has(tokens[i])) {
          out.push(stem(tokens[i], index.suffixes));
        }
        i += span;
      }
      return out;
    }

    function correct(term) {
      if (has(idf, term)) return term;
      if (term.length < minLength) return null;
      let best = null;
      for (const candidate of vocabulary) {
        if (candidate[0] !== term[0] || Math.abs(candidate.length - term.length) > 1) continue;
        if (!withinOneEdit(term, candidate)) continue;
        if (term.length === minLength &&
            (candidate.length !== term.length || !sameLetters(candidate, term))) continue;
        // The rarer word wins; ties go to the later word in code-point order, as in Python.
        if (best === null || idf[candidate] > idf[best] ||
            (idf[candidate] === idf[best] && candidate > best)) best = candidate;
      }
      return best;
    }

    return function rank(text, limit) {
      const counts = new Map();
      for (const term of analyse(text)) {
        const known = correct(term);
        if (known) counts.set(known, (counts.get(known) || 0) + 1);
      }
      if (!counts.size) return [];
      const k1 = index.k1;
      const scored = [];
      index.tf.forEach((tf, position) => {
        let score = 0;
        counts.forEach((count, term) => {
          const frequency = has(tf, term) ? tf[term] : 0;
          if (frequency) score += count * idf[term] * frequency * (k1 + 1) / (frequency + k1);
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
