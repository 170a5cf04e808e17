/* 知库 答疑台 (answer desk, staff site only).
 *
 * Fills <div id="zhiku-desk"> with a box for the customer's question. The question
 * goes to the Zhiku app named by <meta name="zhiku-app" content="URL">
 * (GET /api/search?q=...&audience=staff, with the staff member's personal token
 * as a Bearer header: the one the feedback panel keeps). The best entry becomes an
 * answer card: the matched scenario's answer first, the three replies with one copy
 * button each, the hand-off (team, what to collect, promised time) and the full
 * rule behind a <details>; further entries are one line each. When the app is not
 * sure (answered=false) the desk says 没有把握 and lists the nearest entries as
 * suggestions only: no answer card, no copy buttons. When the app cannot be
 * reached the desk says so and points to the site's own search. All API text goes
 * in as text nodes (a small Markdown reader builds elements), never as HTML.
 *
 * Fields read from each result, all optional except id/question: url, rule, why,
 * replies {friendly, formal, brief}, scenarios [{case, answer}],
 * match {kind: "question"|"phrasing"|"scenario", index (0-based), text},
 * handoff {team, collect [..], respond_within ("2h")}. Without `match`, the
 * scenario named in `why` (「case」) is looked up in `scenarios`.
 */
(function () {
  "use strict";

  var LIMIT = 5;
  var MAX_CHARS = 500; /* the app refuses longer questions */
  var TIMEOUT_MS = 10000;
  var LINE_CHARS = 60;
  var TOKEN_KEY = "zhiku-feedback-token"; /* shared with the feedback panel */
  var UNITS = { m: "分钟", h: "小时", d: "天", w: "周" };
  var TONES = [["friendly", "亲切"], ["formal", "专业"], ["brief", "简洁"]];
  var SCRIPT_SRC = (document.currentScript && document.currentScript.src) || "";
  /* The script's own place on the site: <root>/assets/zhiku/zhiku-desk.js */
  var SCRIPT_PATH = /assets\/zhiku\/zhiku-desk\.js(?:[?#].*)?$/;

  var TEXT = {
    placeholder: "粘贴客户的问题…",
    submit: "查找答案",
    clear: "清空",
    keys: "Ctrl+Enter 或 ⌘+Enter 直接查找",
    empty: "请先粘贴或输入客户的问题。",
    searching: "正在查找……",
    found: "找到答案。",
    readAs: "已按知识库的用词纠正输入，按此查找：",
    best: "最佳答案",
    others: "其他相关条目",
    miss: "没有把握：知识库里没有可靠的答案。这个问题已记录，知识库负责人会补充。",
    maybe: "可能相关的条目（仅供参考，请先核对再答复客户）",
    offline: "答疑服务暂时无法连接，请使用右上角的站内搜索。",
    openSearch: "打开站内搜索",
    answer: "这种情况的答复",
    scenario: "匹配的场景：",
    rule: "核心规则",
    fullRule: "查看完整核心规则",
    handoff: "需要转人工",
    team: "对接团队",
    collect: "先向客户收集",
    promise: "承诺响应",
    within: "{t}内",
    replies: "话术",
    why: "匹配原因：",
    noReplies: "本条目没有现成的话术，请参照上面的答复回答。",
    open: "打开条目页",
    copy: "复制",
    copied: "已复制",
    copyFailed: "复制失败，请手动选择",
    signIn: "答疑台需要登录：请粘贴你的个人令牌（向知识库管理员索取）。",
    signInExpired: "登录已失效，请重新粘贴你的个人令牌。",
    signInGone: "你的账号已不在员工名单里，请联系知识库管理员。",
    token: "个人令牌",
    signInButton: "登录并查找",
    tokenEmpty: "请先粘贴令牌。"
  };

  /* el("button", {type: "button", class: "x", text: "..."}, [child, "text"]) */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function str(value) {
    return typeof value === "string" ? value : (value === null || value === undefined ? "" : String(value));
  }

  function appUrl() {
    var meta = document.querySelector('meta[name="zhiku-app"]');
    var url = meta && meta.getAttribute("content");
    return url ? url.trim().replace(/\/+$/, "") : "";
  }

  /* The site root as an absolute URL ending in "/". */
  function siteRoot() {
    if (SCRIPT_PATH.test(SCRIPT_SRC)) { return SCRIPT_SRC.replace(SCRIPT_PATH, ""); }
    var config = document.getElementById("__config");
    if (config) {
      try {
        var base = JSON.parse(config.textContent || "{}").base;
        if (typeof base === "string") { return new URL(base.replace(/\/*$/, "/"), location.href).href; }
      } catch (e) { /* fall through */ }
    }
    return location.origin + "/";
  }

  /* The API gives entry URLs from the site root ("/section/id/") or absolute when
     the app knows the site's address. Only http(s) links are made. */
  function entryHref(url) {
    url = str(url).trim();
    if (!url) { return ""; }
    var href;
    try {
      href = /^https?:\/\//i.test(url) ? new URL(url)
                                        : new URL(url.replace(/^\/+/, ""), siteRoot());
    } catch (e) { return ""; }
    return href.protocol === "http:" || href.protocol === "https:" ? href.href : "";
  }

  /* Inline Markdown to nodes: **bold** and `code` become <strong>/<code>, [text](url)
     its text; everything else stays text. */
  function inline(text) {
    var nodes = [];
    var re = /\*\*(.+?)\*\*|__(.+?)__|`([^`]+)`|!?\[([^\]]*)\]\([^)]*\)/g;
    var last = 0;
    var m;
    text = str(text);
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) { nodes.push(document.createTextNode(text.slice(last, m.index))); }
      if (m[1] !== undefined || m[2] !== undefined) { nodes.push(el("strong", { text: m[1] || m[2] })); }
      else if (m[3] !== undefined) { nodes.push(el("code", { text: m[3] })); }
      else { nodes.push(document.createTextNode(m[4])); }
      last = re.lastIndex;
    }
    if (last < text.length) { nodes.push(document.createTextNode(text.slice(last))); }
    return nodes;
  }

  function cells(line) {
    return line.replace(/^\s*\|/, "").replace(/\|\s*$/, "").split("|").map(function (c) { return c.trim(); });
  }

  /* Block Markdown (paragraphs, lists, tables, headings, quotes) as elements. */
  function markdown(source) {
    var box = el("div", { class: "zd-md" });
    var lines = str(source).replace(/\r\n?/g, "\n").split("\n");
    var i = 0;
    while (i < lines.length) {
      var line = lines[i];
      if (!line.trim()) { i++; continue; }
      var list = /^\s*([-*+]|\d+[.)])\s+/.exec(line);
      if (list) {
        var ordered = /\d/.test(list[1]);
        var items = el(ordered ? "ol" : "ul", {});
        while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) {
          items.appendChild(el("li", {}, inline(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ""))));
          i++;
          while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !/^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) {
            items.lastChild.appendChild(document.createTextNode(" " + lines[i].trim()));
            i++;
          }
        }
        box.appendChild(items);
        continue;
      }
      if (/^\s*\|.*\|\s*$/.test(line)) {
        var table = el("table", {});
        while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) {
          if (!/^[\s|:-]+$/.test(lines[i])) {
            table.appendChild(el("tr", {}, cells(lines[i]).map(function (c) { return el("td", {}, inline(c)); })));
          }
          i++;
        }
        box.appendChild(table);
        continue;
      }
      var para = [];
      while (i < lines.length && lines[i].trim() && !/^\s*([-*+]|\d+[.)])\s+/.test(lines[i]) &&
             !/^\s*\|.*\|\s*$/.test(lines[i])) {
        para.push(lines[i].trim().replace(/^#{1,6}\s+/, "").replace(/^>\s?/, ""));
        i++;
      }
      box.appendChild(el("p", {}, inline(para.join("\n"))));
    }
    return box;
  }

  /* One line of plain text from Markdown, for the compact list. */
  function oneLine(source) {
    var text = str(source).replace(/\r\n?/g, "\n").split("\n").map(function (line) {
      if (/^[\s|:-]+$/.test(line) && line.indexOf("-") >= 0) { return ""; }
      return line.replace(/^\s*(?:[-*+]\s+|\d+[.)]\s+|#{1,6}\s+|>\s?)/, "").replace(/\|/g, " ")
        .replace(/\*\*(.+?)\*\*|__(.+?)__/g, "$1$2").replace(/`([^`]*)`/g, "$1")
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").trim();
    }).filter(Boolean).join(" ").replace(/\s+/g, " ");
    return text.length > LINE_CHARS ? text.slice(0, LINE_CHARS).replace(/\s+$/, "") + "…" : text;
  }

  function durationText(value) {
    var m = /^\s*(\d+)\s*([mhdw])\s*$/.exec(str(value));
    return m ? m[1] + " " + UNITS[m[2]] : str(value);
  }

  /* The scenario the search matched: `match` when the API gives it, else the case the
     "why" quotes (「...」), looked up among the entry's scenarios. */
  function matchedScenario(hit) {
    var scenarios = Array.isArray(hit.scenarios) ? hit.scenarios : [];
    var match = hit.match || null;
    if (match && match.kind === "scenario") {
      var byIndex = scenarios[match.index];
      if (byIndex && str(byIndex.answer).trim()) { return byIndex; }
      if (str(match.answer).trim()) { return { case: str(match.text), answer: str(match.answer) }; }
    }
    if (match && match.kind && match.kind !== "scenario") { return null; }
    var quoted = /最接近的场景[^「]*「([^」]*)」/.exec(str(hit.why));
    if (!quoted) { return null; }
    for (var i = 0; i < scenarios.length; i++) {
      if (str(scenarios[i].case).trim() === quoted[1].trim() && str(scenarios[i].answer).trim()) {
        return scenarios[i];
      }
    }
    return null;
  }

  function getToken() {
    try { return window.localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }

  function setToken(value) {
    try {
      if (value) { window.localStorage.setItem(TOKEN_KEY, value); }
      else { window.localStorage.removeItem(TOKEN_KEY); }
    } catch (e) { /* private mode */ }
  }

  function fallbackCopy(text) {
    var area = el("textarea", { readonly: "", "aria-hidden": "true" });
    area.value = text;
    area.style.position = "fixed";
    area.style.top = "-1000px";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function selectText(node) {
    try {
      var range = document.createRange();
      range.selectNodeContents(node);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    } catch (e) { /* nothing to do */ }
  }

  function flash(button, label, done) {
    button.textContent = label;
    button.classList.toggle("zd-copy--done", done);
    clearTimeout(button._zdTimer);
    button._zdTimer = setTimeout(function () {
      button.textContent = TEXT.copy;
      button.classList.remove("zd-copy--done");
    }, done ? 1800 : 3000);
  }

  function openSiteSearch() {
    var toggle = document.getElementById("__search");
    var input = document.querySelector("[data-md-component=search-query]");
    if (toggle) {
      toggle.checked = true;
      toggle.dispatchEvent(new Event("change"));
    }
    if (input) { setTimeout(function () { input.focus(); }, 50); }
  }

  /* Resolves {status, data}; rejects only when the app cannot be reached. */
  function search(base, query, token) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var url = base + "/api/search?q=" + encodeURIComponent(query) + "&limit=" + LIMIT +
              "&audience=staff";
    var headers = {};
    if (token) { headers.Authorization = "Bearer " + token; }
    return fetch(url, {
      method: "GET",
      headers: headers,
      credentials: "omit",
      mode: "cors",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data || {} };
      });
    }).finally(function () { if (timer) { clearTimeout(timer); } });
  }

  function replyCard(tone, label, text) {
    var body = el("p", { class: "zd-reply__text", text: text });
    var button = el("button", { type: "button", class: "zd-copy", "data-tone": tone, text: TEXT.copy });
    button.addEventListener("click", function () {
      copyText(text).then(
        function () { flash(button, TEXT.copied, true); },
        function () { selectText(body); flash(button, TEXT.copyFailed, false); }
      );
    });
    return el("div", { class: "zd-reply", "data-tone": tone }, [
      el("div", { class: "zd-reply__head" }, [el("span", { class: "zd-reply__tone", text: label }), button]),
      body
    ]);
  }

  function entryTitle(hit, tag, cls) {
    var question = str(hit.question) || str(hit.id);
    var href = entryHref(hit.url);
    return el(tag, { class: cls }, [href ? el("a", { href: href, text: question }) : question]);
  }

  function handoffCard(handoff) {
    if (!handoff || typeof handoff !== "object" || !str(handoff.team).trim()) { return null; }
    var collect = Array.isArray(handoff.collect) ? handoff.collect.filter(function (c) { return str(c).trim(); }) : [];
    var rows = [
      el("div", { class: "zd-handoff__row" }, [
        el("span", { class: "zd-handoff__label", text: TEXT.team }),
        el("span", { class: "zd-handoff__team", text: str(handoff.team) })
      ])
    ];
    if (collect.length) {
      rows.push(el("div", { class: "zd-handoff__row" }, [
        el("span", { class: "zd-handoff__label", text: TEXT.collect }),
        el("ul", { class: "zd-handoff__collect" }, collect.map(function (c) { return el("li", { text: str(c) }); }))
      ]));
    }
    if (str(handoff.respond_within).trim()) {
      rows.push(el("div", { class: "zd-handoff__row" }, [
        el("span", { class: "zd-handoff__label", text: TEXT.promise }),
        el("span", { class: "zd-handoff__time",
                     text: TEXT.within.replace("{t}", durationText(handoff.respond_within)) })
      ]));
    }
    return el("section", { class: "zd-handoff", "aria-label": TEXT.handoff }, [
      el("h4", { class: "zd-handoff__title", text: TEXT.handoff })
    ].concat(rows));
  }

  /* The best entry: the answer (matched scenario, else the rule), the three replies,
     the hand-off, the full rule behind a <details>. */
  function answerCard(hit) {
    var scenario = matchedScenario(hit);
    var replies = hit.replies || {};
    var cards = TONES.filter(function (t) { return str(replies[t[0]]).trim(); })
      .map(function (t) { return replyCard(t[0], t[1], str(replies[t[0]]).trim()); });
    var answer;
    if (scenario) {
      answer = el("div", { class: "zd-answer zd-answer--scenario" }, [
        el("p", { class: "zd-answer__case" }, [
          el("span", { class: "zd-hit__label", text: TEXT.scenario }), str(scenario.case)
        ]),
        el("span", { class: "zd-hit__label", text: TEXT.answer }),
        markdown(scenario.answer)
      ]);
    } else if (str(hit.rule).trim()) {
      answer = el("div", { class: "zd-answer zd-answer--rule" }, [
        el("span", { class: "zd-hit__label", text: TEXT.rule }),
        markdown(hit.rule)
      ]);
    }
    var rule = scenario && str(hit.rule).trim() ? el("details", { class: "zd-rule" }, [
      el("summary", { text: TEXT.fullRule }), markdown(hit.rule)
    ]) : null;
    return el("article", { class: "zd-hit zd-best", "data-id": str(hit.id) }, [
      entryTitle(hit, "h3", "zd-hit__question"),
      answer || null,
      cards.length ? el("div", { class: "zd-replies", "aria-label": TEXT.replies }, cards)
                   : el("p", { class: "zd-hit__note", text: TEXT.noReplies }),
      handoffCard(hit.handoff),
      rule,
      str(hit.why) ? el("p", { class: "zd-hit__why" }, [
        el("span", { class: "zd-hit__label", text: TEXT.why }), str(hit.why)
      ]) : null
    ]);
  }

  /* Any other entry: its question (a link) and one line, nothing to copy. */
  function compactList(hits) {
    return el("ul", { class: "zd-list" }, hits.map(function (hit) {
      var line = oneLine(hit.rule);
      return el("li", { class: "zd-hit zd-compact", "data-id": str(hit.id) }, [
        entryTitle(hit, "p", "zd-compact__question"),
        line ? el("p", { class: "zd-compact__line", text: line }) : null
      ]);
    }));
  }

  function mount(container) {
    if (container.getAttribute("data-zhiku-mounted")) { return; }
    container.setAttribute("data-zhiku-mounted", "1");
    var base = appUrl();

    var input = el("textarea", {
      class: "zd-input", rows: "3", maxlength: String(MAX_CHARS), placeholder: TEXT.placeholder,
      "aria-label": "客户的问题", autocomplete: "off", spellcheck: "false"
    });
    var submit = el("button", { type: "submit", class: "zd-submit", text: TEXT.submit });
    var clear = el("button", { type: "button", class: "zd-clear", text: TEXT.clear });
    var form = el("form", { class: "zd-form", role: "search" }, [
      input,
      el("div", { class: "zd-actions" }, [submit, clear, el("span", { class: "zd-keys", text: TEXT.keys })])
    ]);
    var status = el("div", { class: "zd-status", role: "status", "aria-live": "polite" });
    var results = el("div", { class: "zd-results" });
    container.textContent = "";
    container.appendChild(el("section", { class: "zd", "aria-label": "答疑台" }, [form, status, results]));

    var sequence = 0;

    function say(text, tone, extra) {
      status.textContent = "";
      status.className = "zd-status" + (tone ? " zd-status--" + tone : "");
      if (text) { status.appendChild(el("p", { class: "zd-status__text", text: text })); }
      (extra || []).forEach(function (node) { status.appendChild(node); });
    }

    function offline(detail) {
      results.textContent = "";
      var button = el("button", { type: "button", class: "zd-open-search", text: TEXT.openSearch });
      button.addEventListener("click", openSiteSearch);
      say(TEXT.offline + (detail ? "（" + detail + "）" : ""), "offline", [button]);
    }

    function show(data) {
      var hits = (Array.isArray(data.results) ? data.results : []).filter(function (h) {
        return h && typeof h === "object";
      });
      results.textContent = "";
      var readAs = typeof data.read_as === "string" && data.read_as
        ? [el("p", { class: "zd-read-as", text: TEXT.readAs + "「" + data.read_as + "」" })]
        : [];
      if (data.answered === true && hits.length) {
        say(TEXT.found, "ok", readAs);
        results.appendChild(el("h2", { class: "zd-heading", text: TEXT.best }));
        results.appendChild(answerCard(hits[0]));
        if (hits.length > 1) {
          results.appendChild(el("h2", { class: "zd-heading zd-heading--more", text: TEXT.others }));
          results.appendChild(compactList(hits.slice(1)));
        }
        return;
      }
      say(TEXT.miss, "miss", readAs);
      if (hits.length) {
        results.appendChild(el("h2", { class: "zd-heading zd-heading--more", text: TEXT.maybe }));
        results.appendChild(compactList(hits));
      }
    }

    function askToken(message) {
      results.textContent = "";
      var field = el("input", {
        type: "password", class: "zd-token", autocomplete: "off", spellcheck: "false",
        id: "zd-token"
      });
      var go = el("button", { type: "button", class: "zd-submit", text: TEXT.signInButton });
      go.addEventListener("click", function () {
        var value = field.value.trim();
        if (!value) { say(TEXT.tokenEmpty, "error"); field.focus(); return; }
        setToken(value);
        run();
      });
      field.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.isComposing) { event.preventDefault(); go.click(); }
      });
      say(message, "error", [
        el("div", { class: "zd-signin" }, [
          el("label", { for: "zd-token", class: "zd-signin__label", text: TEXT.token }), field, go
        ])
      ]);
    }

    function run() {
      var query = input.value.trim();
      if (!query) { say(TEXT.empty, "error"); input.focus(); return; }
      if (!base) { offline(""); return; }
      var mine = ++sequence;
      submit.disabled = true;
      container.setAttribute("aria-busy", "true");
      say(TEXT.searching, "");
      var token = getToken();
      search(base, query.slice(0, MAX_CHARS), token).then(function (res) {
        if (mine !== sequence) { return; }
        if (res.status === 200) { show(res.data); }
        else if (res.status === 401) {
          setToken("");
          askToken(token ? TEXT.signInExpired : TEXT.signIn);
        } else if (res.status === 403) { results.textContent = ""; say(TEXT.signInGone, "error"); }
        else if (res.status === 400) { results.textContent = ""; say(str(res.data.error) || "问题格式不对", "error"); }
        else { offline("错误 " + res.status); }
      }, function () {
        if (mine === sequence) { offline(""); }
      }).finally(function () {
        if (mine === sequence) {
          submit.disabled = false;
          container.removeAttribute("aria-busy");
        }
      });
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.isComposing) {
        event.preventDefault();
        run();
      }
    });
    clear.addEventListener("click", function () {
      sequence++;
      input.value = "";
      results.textContent = "";
      say("", "");
      submit.disabled = false;
      input.focus();
    });

    if (!base) { offline(""); }
    if (window.matchMedia && window.matchMedia("(pointer: fine)").matches) {
      try { input.focus({ preventScroll: true }); } catch (e) { input.focus(); }
    }
  }

  function addStyles() {
    if (!SCRIPT_SRC || document.querySelector('link[href*="zhiku-desk.css"]')) { return; }
    document.head.appendChild(el("link", {
      rel: "stylesheet", href: SCRIPT_SRC.replace(/\.js(\?.*)?$/, ".css")
    }));
  }

  function init() {
    var container = document.getElementById("zhiku-desk");
    if (!container) { return; }
    addStyles();
    mount(container);
  }

  /* Material's instant navigation swaps pages without reloading: re-run on each page.
     mount() is idempotent, so both hooks may fire. */
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(function () { init(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
