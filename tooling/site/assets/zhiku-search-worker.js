/*
 * Zhiku search worker: a drop-in replacement for Material for MkDocs' search
 * worker that understands whole Chinese sentences.
 *
 * Protocol (Material 9.x, integrations/search/worker/message): the page posts
 * {type: 0 SETUP, data: {config, docs, options}} and waits for {type: 1 READY};
 * then it posts {type: 2 QUERY, data: "<what was typed>"} and renders
 * {type: 3 RESULT, data: {items: [[{location, title, text, score, terms}], ...]}}.
 * Titles and texts are inserted as HTML, so they are escaped here.
 *
 * Material's own `docs` are ignored: the index is search/zhiku-index.json,
 * written at build time by tooling/site/search_index.py, which documents the format
 * and holds the reference implementation of the scoring below. The index is
 * fetched on the first non-empty query, so visitors who never search do not
 * download it. Its URL is `?index=` on this script's URL if given, otherwise
 * search/zhiku-index.json in the nearest folder above this script that has one
 * (the site root).
 *
 * A big site's index is sharded (version 2, tooling/site/search_shards.py): the
 * head file has no postings or documents; the worker then fetches only the term
 * shards of the query's terms and the document chunks of the results it shows.
 */
"use strict"

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3
var MAX_RESULTS = 20
// When the best entry's score is below the index's `sure` (fitted on the knowledge
// base when the index is built: tooling/site/search_sure.py), the list says
// 没有找到可信的答案 first; an index without one (nothing to hold out) says so when
// the best entry covers less than LOW_COVERAGE of the query's weight (IDF mass of
// its characters and pairs). Keep in step with not_sure in search_index.py.
var LOW_COVERAGE = 0.5
var NOT_SURE_TITLE = "没有找到可信的答案：下面的条目仅供参考"
var NOT_SURE_TEXT = "下面的条目只和问题的一小部分相同，仅供参考，不一定能回答这个问题。"
var WEIGHT_LEVELS = 63
var DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
// The CJK ranges of tooling/text.py (CJK_RANGES); tests/test_text.py compares them.
var HAN_RUN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{323af}]+/gu
var WORD = /[a-z0-9]+/g
// Pinyin typed without choosing characters (baoxiu for 报修): keep in step with
// LATIN_RUN, MIN_SPELLED and MAX_SYLLABLE in tooling/site/search_text.py.
var LATIN_RUN = /[a-z]+(?: [a-z]+)*/g
var MIN_SPELLED = 4
var MAX_SYLLABLE = 6
var ALNUM = /^[a-z0-9]$/
// Material's query syntax: fuzzy/boost suffixes (~2, ^10) and +/- prefixes.
var SUFFIX = /[~^]\d*(?:\.\d+)?(?=\s|$)/g
var PREFIX = /(^|\s)[+-]+/g

var DIGIT_VALUE = {}
for (var d = 0; d < DIGITS.length; d++) DIGIT_VALUE[DIGITS[d]] = d

var loading = null   /* Promise of the loaded index */

/* ------------------------------------------------------------------ index */

function candidateUrls() {
  var own = new URL(self.location.href)
  var explicit = own.searchParams.get("index")
  if (explicit) return [new URL(explicit, own).href]
  var urls = []
  var dir = new URL("./", own)
  for (;;) {
    urls.push(new URL("search/zhiku-index.json", dir).href)
    if (dir.pathname === "/") break
    dir = new URL("../", dir)
  }
  return urls
}

function fetchIndex(urls) {
  var url = urls[0]
  return fetch(url, { credentials: "same-origin" }).then(function (res) {
    if (res.ok) return res.json().then(function (raw) { raw.url = url; return raw })
    if (urls.length > 1) return fetchIndex(urls.slice(1))
    throw new Error("zhiku search: no search/zhiku-index.json found")
  })
}

/* A file of a sharded index, beside the head (search/zhiku-<kind>-<n>.json). */
function fetchPart(index, kind, n) {
  var key = kind + n
  if (!index.parts.has(key)) {
    var url = new URL("zhiku-" + kind + "-" + n + ".json", index.url).href
    index.parts.set(key, fetch(url, { credentials: "same-origin" }).then(function (res) {
      if (!res.ok) throw new Error("zhiku search: cannot load " + url)
      return res.json()
    }).then(function (part) {
      if (kind === "terms") addTerms(index, part)
      else for (var i = 0; i < part.length; i++) index.docs[n * index.chunk + i] = part[i]
    }))
  }
  return index.parts.get(key)
}

/* Keep in step with shard_of in tooling/site/search_shards.py. */
function shardOf(term, shards) {
  var h = 0
  for (var ch of term) h = (Math.imul(h, 31) + ch.codePointAt(0)) >>> 0
  return h % shards
}

/* Load the term shards a query needs (nothing for a one-file index). */
function loadTerms(index, query) {
  if (!index.shards) return Promise.resolve()
  var wanted = new Set()
  for (var term of lookupTerms(normalize(stripSyntax(query), index), index))
    wanted.add(shardOf(term, index.shards))
  return Promise.all(Array.from(wanted, function (n) { return fetchPart(index, "terms", n) }))
}

/* Load the document chunks of the ranked results (nothing for a one-file index). */
function loadDocs(index, ranked) {
  if (!index.shards) return Promise.resolve()
  var wanted = new Set()
  for (var hit of ranked) wanted.add(Math.floor(hit.doc / index.chunk))
  return Promise.all(Array.from(wanted, function (n) { return fetchPart(index, "docs", n) }))
}

function load() {
  if (!loading)
    loading = fetchIndex(candidateUrls()).then(prepare).catch(function (err) {
      console.error(err)
      return null
    })
  return loading
}

function prepare(raw) {
  var sharded = raw.version === 2
  var index = {
    docs: sharded ? new Array(raw.count) : raw.docs, count: sharded ? raw.count : raw.docs.length,
    shards: sharded ? raw.shards : 0, chunk: raw.chunk || 0, url: raw.url, parts: new Map(),
    terms: new Map(), t2s: new Map(), synonyms: new Map(), longest: 0,
    syllables: new Set((raw.syllables || "").split(" ").filter(Boolean)),
    sure: raw.sure
  }
  var t2s = Array.from(raw.t2s)
  for (var i = 0; i + 1 < t2s.length; i += 2) index.t2s.set(t2s[i], t2s[i + 1])
  if (!sharded) addTerms(index, raw)
  for (var group of raw.synonyms) {
    for (var member of group) {
      if (!index.synonyms.has(member)) index.synonyms.set(member, group[0])
      index.longest = Math.max(index.longest, Array.from(member).length)
    }
  }
  return index
}

/* Unpack the `cjk`, `words` and `sounds` postings of an index or of one of its
   shards (pack_terms in tooling/site/search_codec.py). */
function addTerms(index, raw) {
  for (var word in raw.words) index.terms.set(word, raw.words[word])
  for (var syllable in raw.sounds || {}) {
    for (var part of raw.sounds[syllable].split(" ")) {
      var colon = part.indexOf(":")
      index.terms.set(syllable + " " + part.slice(0, colon), part.slice(colon + 1))
    }
  }
  for (var first in raw.cjk) {
    var term = first, start = 0, packed = raw.cjk[first], pos = 0
    for (var ch of packed) {
      if (!(ch in DIGIT_VALUE)) {
        if (pos > start) index.terms.set(term, packed.slice(start, pos))
        term = first + ch
        start = pos + ch.length
      }
      pos += ch.length
    }
    if (packed.length > start) index.terms.set(term, packed.slice(start))
  }
}

function decode(text) {
  var docs = [], levels = [], doc = -1, i = 0
  while (i < text.length) {
    var gap = 0, shift = 0, value
    while ((value = DIGIT_VALUE[text[i]]) >= 32) {
      gap += (value - 32) * Math.pow(2, shift)
      shift += 5
      i++
    }
    gap += value * Math.pow(2, shift)
    doc += gap + 1
    docs.push(doc)
    levels.push(DIGIT_VALUE[text[i + 1]])
    i += 2
  }
  return { docs: docs, levels: levels }
}

/* ------------------------------------------------------------ normalising */

function fold(text, index) {
  var out = ""
  for (var ch of text.normalize("NFKC").toLowerCase()) out += index.t2s.get(ch) || ch
  return out
}

function normalize(text, index) {
  var chars = Array.from(fold(text, index))
  if (!index.longest) return chars.join("")
  var out = "", i = 0
  while (i < chars.length) {
    var size = Math.min(index.longest, chars.length - i), replaced = false
    for (; size > 0; size--) {
      var word = chars.slice(i, i + size).join("")
      if (index.synonyms.has(word) && wholeAsciiWord(chars, i, size)) {
        out += index.synonyms.get(word)
        i += size
        replaced = true
        break
      }
    }
    if (!replaced) out += chars[i++]
  }
  return out
}

function wholeAsciiWord(chars, start, size) {
  var end = start + size
  if (ALNUM.test(chars[start]) && start > 0 && ALNUM.test(chars[start - 1])) return false
  return !(ALNUM.test(chars[end - 1]) && end < chars.length && ALNUM.test(chars[end]))
}

function terms(normalized) {
  var out = []
  for (var run of normalized.match(HAN_RUN) || []) {
    var chars = Array.from(run)
    for (var i = 0; i < chars.length; i++) {
      out.push(chars[i])
      if (i + 1 < chars.length) out.push(chars[i] + chars[i + 1])
    }
  }
  return out.concat(normalized.match(WORD) || [])
}

/* The fewest of the index's syllables that spell `letters` end to end (null when
   none do); of equally few, the first found. Keep in step with split_syllables in
   tooling/site/search_text.py. */
function splitSyllables(letters, syllables) {
  var best = [[]]
  for (var i = 1; i <= letters.length; i++) best.push(null)
  for (var end = 1; end <= letters.length; end++) {
    for (var start = Math.max(0, end - MAX_SYLLABLE); start < end; start++) {
      var head = best[start]
      if (head === null || !syllables.has(letters.slice(start, end))) continue
      var found = best[end]
      if (found === null || head.length + 1 < found.length)
        best[end] = head.concat([letters.slice(start, end)])
    }
  }
  return best[letters.length]
}

/* The syllable pairs ("bao xiu") of each Latin run that splits into two or more of
   the index's syllables (spelled_terms in tooling/site/search_text.py). */
function spelledTerms(normalized, index) {
  var out = []
  if (!index.syllables || !index.syllables.size) return out
  for (var run of normalized.match(LATIN_RUN) || []) {
    var letters = run.replace(/ /g, "")
    if (letters.length < MIN_SPELLED) continue
    var split = splitSyllables(letters, index.syllables)
    if (split && split.length > 1)
      for (var i = 0; i + 1 < split.length; i++) out.push(split[i] + " " + split[i + 1])
  }
  return out
}

/* What a query is looked up by (query_terms in tooling/site/search_text.py). */
function lookupTerms(normalized, index) {
  return terms(normalized).concat(spelledTerms(normalized, index))
}

/* ---------------------------------------------------------------- search */

function stripSyntax(query) {
  return query.replace(SUFFIX, " ").replace(PREFIX, "$1")
}

function search(index, query) {
  var n = index.count
  var scores = new Map(), covered = new Map(), hits = new Map(), total = 0
  var unique = new Set(lookupTerms(normalize(stripSyntax(query), index), index))
  for (var term of unique) {
    var encoded = index.terms.get(term)
    if (encoded === undefined) continue
    var postings = decode(encoded), df = postings.docs.length
    var idf = Math.log(1 + (n - df + 0.5) / (df + 0.5))
    total += idf
    for (var k = 0; k < df; k++) {
      var doc = postings.docs[k]
      scores.set(doc, (scores.get(doc) || 0) + idf * postings.levels[k] / WEIGHT_LEVELS)
      covered.set(doc, (covered.get(doc) || 0) + idf)
      if (!hits.has(doc)) hits.set(doc, [])
      hits.get(doc).push(term)
    }
  }
  var ranked = []
  scores.forEach(function (score, doc) {
    ranked.push({ doc: doc, score: score * covered.get(doc) / total, coverage: covered.get(doc) / total })
  })
  ranked.sort(function (a, b) { return b.score - a.score || a.doc - b.doc })
  return { ranked: ranked.slice(0, MAX_RESULTS), hits: hits }
}

/* ------------------------------------------------------------- rendering */

function escapeHTML(text) {
  return text.replace(/[&<>"']/g, function (ch) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch]
  })
}

/* Mark the characters of `text` that belong to a CJK pair or ASCII word of the query. */
function highlight(text, index, wanted) {
  var chars = Array.from(text)
  var folded = chars.map(function (ch) { return fold(ch, index) })
  var marked = chars.map(function () { return false })
  for (var i = 0; i + 1 < chars.length; i++)
    if (wanted.has(folded[i] + folded[i + 1])) marked[i] = marked[i + 1] = true
  var word = /[a-z0-9]+/g, joined = folded.join(""), m
  if (joined.length === chars.length)
    while ((m = word.exec(joined)) !== null)
      if (wanted.has(m[0]))
        for (var j = m.index; j < m.index + m[0].length; j++) marked[j] = true
  var out = "", open = false
  for (var c = 0; c < chars.length; c++) {
    if (marked[c] && !open) { out += "<mark data-md-highlight>"; open = true }
    if (!marked[c] && open) { out += "</mark>"; open = false }
    out += escapeHTML(chars[c])
  }
  return open ? out + "</mark>" : out
}

/* The query's words for Material's ?h= highlighting: the runs of the query
   covered by pairs (or a lone character, or ASCII words) the entry contains. */
function queryTerms(query, index, matched) {
  var result = {}, folded = fold(query, index)
  for (var run of folded.match(HAN_RUN) || []) {
    var chars = Array.from(run)
    var marked = chars.map(function () { return chars.length === 1 && matched.has(run) })
    for (var i = 0; i + 1 < chars.length; i++)
      if (matched.has(normalize(chars[i] + chars[i + 1], index))) marked[i] = marked[i + 1] = true
    var current = ""
    for (var c = 0; c <= chars.length; c++) {
      if (c < chars.length && marked[c]) current += chars[c]
      else if (current) { result[current] = true; current = "" }
    }
  }
  for (var word of folded.match(WORD) || [])
    if (terms(normalize(word, index)).every(function (t) { return matched.has(t) }))
      result[word] = true
  return result
}

/* Fetch what the query needs from a sharded index, then answer it. */
function answer(index, query) {
  if (!index || !query.trim()) return Promise.resolve({ items: [] })
  return loadTerms(index, query).then(function () {
    var found = search(index, query)
    return loadDocs(index, found.ranked).then(function () { return respond(index, query, found) })
  })
}

function notSure(index, best) {
  return typeof index.sure === "number" ? best.score < index.sure : best.coverage < LOW_COVERAGE
}

function respond(index, query, found) {
  if (!index || !query.trim()) return { items: [] }
  found = found || search(index, query)
  var plain = stripSyntax(query)
  var wanted = new Set(terms(fold(plain, index)).concat(terms(normalize(plain, index))))
  var items = found.ranked.map(function (hit) {
    var doc = index.docs[hit.doc]
    return [{
      location: doc[0],
      title: highlight(doc[1], index, wanted),
      text: doc[2] ? "<p>" + highlight(doc[2], index, wanted) + "</p>" : "",
      score: hit.score,
      terms: queryTerms(query, index, new Set(found.hits.get(hit.doc)))
    }]
  })
  if (found.ranked.length && notSure(index, found.ranked[0]))
    items = [[{
      location: "#",
      title: NOT_SURE_TITLE,
      text: "<p>" + NOT_SURE_TEXT + "</p>",
      score: items[0][0].score,
      terms: {}
    }]].concat(items.slice(0, MAX_RESULTS - 1))
  return { items: items }
}

/* -------------------------------------------------------------- messages */

var queue = Promise.resolve()   /* answers go out in the order queries came in */

addEventListener("message", function (ev) {
  var message = ev.data
  if (message.type === SETUP) {
    postMessage({ type: READY })
  } else if (message.type === QUERY) {
    var query = String(message.data || "")
    queue = queue
      .then(function () { return query.trim() ? load() : null })
      .then(function (index) { return answer(index, query) })
      .catch(function (err) {
        console.warn("zhiku search: cannot search for " + query, err)
        return { items: [] }
      })
      .then(function (data) { postMessage({ type: RESULT, data: data }) })
  }
})

/* Let tests and Node load the pure functions without a worker. */
if (typeof module !== "undefined")
  module.exports = {
    prepare: prepare, search: search, respond: respond, answer: answer, normalize: normalize,
    splitSyllables: splitSyllables, lookupTerms: lookupTerms
  }
