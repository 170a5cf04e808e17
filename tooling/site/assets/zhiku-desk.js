/* 知库 答疑台 (answer desk, staff site only).
 *
 * Fills <div id="zhiku-desk"> with a box for the customer's question. The question
 * goes to the Zhiku app named by <meta name="zhiku-app" content="URL">
 * (GET /api/search?q=...&audience=staff); the best entries come back with their
 * rule and the three replies, each ready to copy. Questions without a confident
 * answer are logged by the app for the knowledge-base owners. When the app cannot
 * be reached the desk says so and points to the site's own search, which keeps
 * working. All API text goes in as text nodes, never as HTML.
 */
(function () {
  "use strict";

  var LIMIT = 5;
  var MAX_CHARS = 500; /* the app refuses longer questions */
  var TIMEOUT_MS = 10000;
  var RULE_CHARS = 90;
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
    found: "找到 {n} 条相关条目。",
    best: "最佳答案",
    others: "其他相关条目",
    miss: "知识库里没有可信的答案 — 已记录,知识库负责人会补充",
    maybe: "可能相关",
    offline: "答疑服务暂时无法连接,请使用右上角的站内搜索",
    openSearch: "打开站内搜索",
    rule: "核心规则",
    why: "匹配原因:",
    noReplies: "本条目没有现成的答复,请参照核心规则回答。",
    copy: "复制",
    copied: "已复制",
    copyFailed: "复制失败,请手动选择"
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

  /* The first part of a Markdown rule as plain text: its first paragraph, shortened. */
  function ruleExcerpt(rule) {
    var text = str(rule).replace(/\r\n?/g, "\n").trim();
    var para = text.split(/\n\s*\n/)[0] || "";
    var lines = para.split("\n").map(function (line) {
      line = line.trim();
      if (/^\|?[\s:|-]+\|?$/.test(line) && line.indexOf("-") >= 0) { return ""; } /* |---|---| */
      if (/^\|.*\|$/.test(line)) {
        line = line.slice(1, -1).split("|").map(function (cell) { return cell.trim(); })
          .filter(Boolean).join(" / ");
      }
      return line
        .replace(/^#{1,6}\s+/, "")
        .replace(/^>\s?/, "")
        .replace(/^[-*+]\s+/, "· ")
        .replace(/\*\*(.+?)\*\*|__(.+?)__/g, "$1$2")
        .replace(/`([^`]*)`/g, "$1")
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1");
    }).filter(Boolean);
    var short = lines.join("\n");
    var cut = short.length > RULE_CHARS || text.length > para.length;
    if (short.length > RULE_CHARS) { short = short.slice(0, RULE_CHARS).replace(/\s+$/, ""); }
    return cut ? short + "…" : short;
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
  function search(base, query) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var url = base + "/api/search?q=" + encodeURIComponent(query) + "&limit=" + LIMIT +
              "&audience=staff";
    return fetch(url, {
      method: "GET",
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

  function hitCard(hit) {
    var question = str(hit.question) || str(hit.id);
    var href = entryHref(hit.url);
    var title = el("h3", { class: "zd-hit__question" }, [
      href ? el("a", { href: href, text: question }) : question
    ]);
    var replies = hit.replies || {};
    var cards = TONES.filter(function (t) { return str(replies[t[0]]).trim(); })
      .map(function (t) { return replyCard(t[0], t[1], str(replies[t[0]]).trim()); });
    var rule = ruleExcerpt(hit.rule);
    return el("article", { class: "zd-hit", "data-id": str(hit.id) }, [
      title,
      rule ? el("div", { class: "zd-hit__rule" }, [
        el("span", { class: "zd-hit__label", text: TEXT.rule }),
        el("p", { class: "zd-hit__rule-text", text: rule })
      ]) : null,
      cards.length ? el("div", { class: "zd-replies" }, cards)
                   : el("p", { class: "zd-hit__note", text: TEXT.noReplies }),
      str(hit.why) ? el("p", { class: "zd-hit__why" }, [
        el("span", { class: "zd-hit__label", text: TEXT.why }), str(hit.why)
      ]) : null
    ]);
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
      say(TEXT.offline + (detail ? "(" + detail + ")" : ""), "offline", [button]);
    }

    function show(data) {
      var hits = Array.isArray(data.results) ? data.results : [];
      results.textContent = "";
      if (data.answered && hits.length) {
        say(TEXT.found.replace("{n}", String(hits.length)), "ok");
        results.appendChild(el("h2", { class: "zd-heading", text: TEXT.best }));
        results.appendChild(hitCard(hits[0]));
        if (hits.length > 1) {
          results.appendChild(el("h2", { class: "zd-heading zd-heading--more", text: TEXT.others }));
          hits.slice(1).forEach(function (hit) { results.appendChild(hitCard(hit)); });
        }
        return;
      }
      say(TEXT.miss, "miss");
      if (hits.length) {
        results.appendChild(el("h2", { class: "zd-heading zd-heading--more", text: TEXT.maybe }));
        hits.forEach(function (hit) { results.appendChild(hitCard(hit)); });
      }
    }

    function run() {
      var query = input.value.trim();
      if (!query) { say(TEXT.empty, "error"); input.focus(); return; }
      if (!base) { offline(""); return; }
      var mine = ++sequence;
      submit.disabled = true;
      container.setAttribute("aria-busy", "true");
      say(TEXT.searching, "");
      search(base, query.slice(0, MAX_CHARS)).then(function (res) {
        if (mine !== sequence) { return; }
        if (res.status === 200) { show(res.data); }
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
