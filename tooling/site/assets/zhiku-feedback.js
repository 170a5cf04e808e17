/* 知库 feedback panel (staff site only).
 *
 * Fills every <div class="zhiku-feedback" data-entry="ID"> with a small form that
 * sends a flag to the feedback app named by <meta name="zhiku-app" content="URL">.
 * The staff member's personal token is kept in localStorage. If the app cannot be
 * reached the panel says so calmly and the page keeps working.
 *
 * Every field has a visible label. A scenario to change is picked by its text from
 * the entry's own scenarios (read from the page's 常见场景 list, or from a
 * data-scenarios JSON attribute when the page gives one). Each submission carries an
 * Idempotency-Key (a random UUID, the same on a retry of the same submission), so a
 * retry after a lost answer never makes a second flag. Errors from the app are shown
 * in Chinese: known English messages are translated, file:line:col locations are
 * dropped and field names are given their Chinese names.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "zhiku-feedback-token";
  var TIMEOUT_MS = 8000;
  var KINDS = [["wrong", "答案错误"], ["missing", "场景缺失"], ["unclear", "表述模糊"]];
  var PROPOSALS = [
    ["", "不提建议"],
    ["rule", "替换核心规则"],
    ["add_scenario", "新增场景"],
    ["add_phrasing", "新增问法"],
    ["scenario", "修改某个场景的答复"]
  ];
  /* Field names in API messages and validation details, as the staff know them. */
  var FIELD_NAMES = {
    note: "说明", kind: "问题类型", entry: "条目", proposal: "修改建议", rule: "核心规则",
    case: "场景情况", answer: "答复", phrasing: "问法", add_phrasing: "新增问法",
    add_scenario: "新增场景", scenario: "场景", scenarios: "常见场景", phrasings: "问法",
    question: "标准问", replies: "话术", handoff: "转人工", tags: "标签", related: "相关问题",
    links: "参考链接", owner: "负责人", reviewed: "最近核对", audience: "可见范围"
  };
  /* The app's English messages (before it speaks Chinese), by pattern. */
  var MESSAGES = [
    [/is empty/, function (f) { return "「" + f + "」是空的，请填写内容。"; }],
    [/is too long \((\d+) characters; at most (\d+)\)/, function (f, m) {
      return "「" + f + "」太长了（" + m[1] + " 字，最多 " + m[2] + " 字），请精简。"; }],
    [/must be a single line/, function (f) { return "「" + f + "」只能写一行。"; }],
    [/control character/, function (f) { return "「" + f + "」里有看不见的控制字符，请删掉后重写。"; }],
    [/is required/, function (f) { return "请填写「" + f + "」。"; }],
    [/would make the entry invalid/, function () { return "这个修改建议会让条目不合格式，请按下面的提示修改后再提交。"; }],
    [/cannot be applied/, function () { return "这个修改建议没法自动写进条目，请不带建议提交，把修改写在说明里。"; }],
    [/no entry/, function () { return "这个条目已不在知识库里，请刷新页面。"; }],
    [/has no scenario/, function () { return "这个场景已不在条目里，请刷新页面后重新选择。"; }],
    [/not in _staff\.yaml|any more/, function () { return "你的账号已不在员工名单里，请联系知识库管理员。"; }],
    [/too many/, function () { return "提交太频繁了，请稍等一会儿再试。"; }],
    [/too large/, function () { return "内容太长了，请精简后再提交。"; }],
    [/not ready|try again later/, function () { return "反馈服务暂时不可用，请稍后再试。"; }],
    [/token/, function () { return "令牌无效，请检查后重试。"; }]
  ];
  /* The stylesheet sits next to this script; added unless the site already links it. */
  var SCRIPT_SRC = (document.currentScript && document.currentScript.src) || "";
  var OFFLINE = "反馈服务暂时无法连接，请稍后再试。页面其他内容不受影响。";

  function appUrl() {
    var meta = document.querySelector('meta[name="zhiku-app"]');
    var url = meta && meta.getAttribute("content");
    return url ? url.replace(/\/+$/, "") : "";
  }

  function getToken() {
    try { return window.localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }

  function setToken(value) {
    try {
      if (value) { window.localStorage.setItem(TOKEN_KEY, value); }
      else { window.localStorage.removeItem(TOKEN_KEY); }
    } catch (e) { /* private mode: the token lasts for this page only */ }
  }

  /* el("button", {type: "button", class: "x"}, ["text", child]) */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    (window.crypto || { getRandomValues: function (b) {
      for (var i = 0; i < b.length; i++) { b[i] = Math.floor(Math.random() * 256); } return b; } })
      .getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
           hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function fieldName(raw) {
    /* scenarios[2].answer -> 常见场景第 3 条的答复; proposal.add_scenario -> 新增场景 */
    var parts = String(raw).split(".");
    var names = parts.map(function (part) {
      var m = /^([a-z_]+)(?:\[(\d+)\])?$/.exec(part);
      if (!m) { return ""; }
      var name = FIELD_NAMES[m[1]] || "";
      if (name && m[2] !== undefined) { name += "第 " + (Number(m[2]) + 1) + " 条"; }
      return name;
    }).filter(Boolean);
    if (names.length > 1 && names[0] === FIELD_NAMES.proposal) { names.shift(); }
    return names.join("的");
  }

  /* A message from the app, for a person: no file:line:col, fields in Chinese,
     English messages translated (or a plain fallback). */
  function humanize(message, fallback) {
    var text = String(message || "").trim();
    text = text.replace(/(?:^|\s)[\w.\/-]*\.ya?ml(?::\d+){0,2}:?\s*/g, " ")
      .replace(/^\s*(?:error|warning|错误|警告)\s*[:：]\s*/i, "")
      .replace(/\s+—\s+/g, "：").trim();
    var field = "";
    var chinese = /[\u4e00-\u9fff]/.test(text.replace(/`[^`]*`/g, ""));
    text = text.replace(/`([^`]+)`/g, function (all, name) {
      var zh = fieldName(name);
      if (!field && zh) { field = zh; }
      return zh ? "「" + zh + "」" : "「" + name + "」";
    });
    if (chinese) { return text.replace(/\s*(「[^」]*」)\s*/g, "$1"); }
    for (var i = 0; i < MESSAGES.length; i++) {
      var m = MESSAGES[i][0].exec(text);
      if (m) { return MESSAGES[i][1](field || "内容", m); }
    }
    return fallback;
  }

  /* Resolves {status, data}; rejects only when the app cannot be reached. */
  function call(base, method, path, token, body, extraHeaders) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var headers = {};
    if (token) { headers.Authorization = "Bearer " + token; }
    if (body) { headers["Content-Type"] = "application/json"; }
    Object.keys(extraHeaders || {}).forEach(function (key) { headers[key] = extraHeaders[key]; });
    return fetch(base + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      signal: controller ? controller.signal : undefined,
      credentials: "omit",
      mode: "cors"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }).finally(function () { if (timer) { clearTimeout(timer); } });
  }

  /* The scenario cases of the entry this panel sits under: data-scenarios (JSON list)
     when given, else the bold case of each item in the page's 常见场景 list. */
  function pageScenarios(container) {
    var given = container.getAttribute("data-scenarios");
    if (given) {
      try {
        var list = JSON.parse(given);
        if (Array.isArray(list)) { return list.map(function (c) { return String(c); }); }
      } catch (e) { /* fall back to the page */ }
    }
    var scope = container.closest("article") || document;
    var heading = Array.prototype.filter.call(scope.querySelectorAll("h2"), function (h) {
      return h.textContent.replace(/[¶#\s]/g, "") === "常见场景";
    })[0];
    var node = heading ? heading.nextElementSibling : null;
    while (node && node.tagName !== "UL" && node.tagName !== "OL" && node.tagName !== "H2") {
      node = node.nextElementSibling;
    }
    if (!node || node.tagName === "H2") { return []; }
    return Array.prototype.map.call(node.children, function (li) {
      var strong = li.querySelector("strong");
      return (strong ? strong.textContent : li.textContent).trim();
    }).filter(Boolean);
  }

  function mount(container) {
    if (container.getAttribute("data-zhiku-mounted")) { return; }
    container.setAttribute("data-zhiku-mounted", "1");
    var entry = container.getAttribute("data-entry") || "";
    var base = appUrl();
    if (!entry || !base) { container.hidden = true; return; }

    var count = el("span", { class: "zf-count" });
    var signout = el("a", { href: "#", class: "zf-signout", text: "退出" });
    var status = el("p", { class: "zf-status", role: "status", "aria-live": "polite" });

    var tokenInput = el("input", {
      type: "password", class: "zf-token", autocomplete: "off", spellcheck: "false",
      id: "zf-token-" + entry.replace(/[^a-z0-9-]/g, ""), placeholder: "以 zk_ 开头的一串字符"
    });
    var signin = el("form", { class: "zf-signin" }, [
      el("p", { class: "zf-hint", text: "登录后可以标记本条目的问题。令牌请向知识库管理员索取。" }),
      el("label", { class: "zf-label", for: tokenInput.id, text: "个人令牌" }),
      el("div", { class: "zf-row" }, [tokenInput, el("button", { type: "submit", text: "登录" })])
    ]);

    var kindButtons = KINDS.map(function (kind) {
      return el("button", {
        type: "button", class: "zf-kind", "data-kind": kind[0], "aria-pressed": "false",
        text: kind[1]
      });
    });
    var uid = "zf-" + entry.replace(/[^a-z0-9-]/g, "") + "-";
    function labelled(key, text, control, hint) {
      control.id = uid + key;
      return el("div", { class: "zf-field" }, [
        el("label", { class: "zf-label", for: control.id, text: text }),
        hint ? el("p", { class: "zf-hint zf-hint--field", text: hint }) : null,
        control
      ].filter(Boolean));
    }
    var note = el("textarea", {
      class: "zf-note", rows: "3", maxlength: "2000",
      placeholder: "例如：第二步说的电话已经停用了，现在应该打 8800。"
    });
    var select = el("select", { class: "zf-proposal" },
      PROPOSALS.map(function (p) { return el("option", { value: p[0], text: p[1] }); }));
    var scenarioSelect = el("select", { class: "zf-scenario" });
    var inputs = {
      rule: el("textarea", { rows: "5", maxlength: "8000", placeholder: "写出完整的新规则，可以用 Markdown" }),
      case: el("input", { type: "text", maxlength: "200", placeholder: "例如：客户说上次已经反映过一次" }),
      answer: el("textarea", { rows: "3", maxlength: "4000", placeholder: "这种情况下应该怎么答复" }),
      phrasing: el("input", { type: "text", maxlength: "100", placeholder: "客户原话怎么问的，就怎么写" }),
      index: scenarioSelect
    };
    var boxes = {
      rule: labelled("rule", "新的核心规则", inputs.rule),
      case: labelled("case", "场景（什么情况）", inputs.case),
      answer: labelled("answer", "这种情况的答复", inputs.answer),
      phrasing: labelled("phrasing", "新问法", inputs.phrasing),
      index: labelled("index", "要修改的场景", inputs.index)
    };
    var fields = {
      "": [], rule: [boxes.rule], add_scenario: [boxes.case, boxes.answer],
      add_phrasing: [boxes.phrasing], scenario: [boxes.index, boxes.answer]
    };
    var fixBox = el("div", { class: "zf-fix-fields" });
    var fix = el("details", { class: "zf-fix" }, [
      el("summary", { text: "提出修改建议（可选）" }), labelled("proposal", "建议怎么改", select), fixBox
    ]);
    var submit = el("button", { type: "submit", class: "zf-submit", text: "提交反馈" });
    var form = el("form", { class: "zf-form" }, [
      el("p", { class: "zf-label", id: uid + "kinds", text: "问题类型" }),
      el("div", { class: "zf-kinds", role: "group", "aria-labelledby": uid + "kinds" }, kindButtons),
      labelled("note", "说明（必填）：哪里不对，正确的应该是什么", note), fix, submit
    ]);

    var panel = el("section", { class: "zf", "aria-label": "条目反馈" }, [
      el("div", { class: "zf-head" }, [el("strong", { text: "发现问题？" }), count, signout]),
      signin, form, status
    ]);
    container.textContent = "";
    container.appendChild(panel);

    var kind = "";
    var pending = { body: "", key: "" };
    function say(text, tone, extra) {
      status.textContent = text;
      status.className = "zf-status" + (tone ? " zf-" + tone : "");
      (extra || []).forEach(function (node) { status.appendChild(node); });
    }
    function showSignedIn(on) {
      signin.hidden = on;
      form.hidden = !on;
      signout.hidden = !on;
      if (!on) { count.textContent = ""; }
    }
    function offline() { say(OFFLINE, "offline"); }
    function showFields() {
      fixBox.textContent = "";
      fields[select.value].forEach(function (box) { fixBox.appendChild(box); });
    }
    /* The entry's scenarios by their text; without any, "修改某个场景" is not offered. */
    var cases = pageScenarios(container);
    scenarioSelect.appendChild(el("option", { value: "", text: "请选择场景" }));
    cases.forEach(function (text, i) {
      scenarioSelect.appendChild(el("option", { value: String(i), text: text }));
    });
    if (!cases.length) {
      Array.prototype.forEach.call(select.options, function (option) {
        if (option.value === "scenario") { option.disabled = true; option.hidden = true; }
      });
    }
    function refreshCount(token) {
      return call(base, "GET", "/api/flags?entry=" + encodeURIComponent(entry), token)
        .then(function (res) {
          if (res.status === 401) {
            setToken("");
            showSignedIn(false);
            say("登录已失效，请重新输入令牌。", "error");
            return false;
          }
          if (res.status === 200) {
            count.textContent = res.data.count ? "本条目有 " + res.data.count + " 条待处理反馈"
                                               : "暂无待处理反馈";
            return true;
          }
          say(humanize(res.data && res.data.error, "反馈服务出错了（错误 " + res.status + "）"), "error");
          return false;
        });
    }

    kindButtons.forEach(function (button) {
      button.addEventListener("click", function () {
        kind = button.getAttribute("data-kind");
        kindButtons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
        if (kind === "missing" && !select.value) { select.value = "add_scenario"; showFields(); }
        note.focus();
      });
    });
    select.addEventListener("change", showFields);
    signout.addEventListener("click", function (event) {
      event.preventDefault();
      setToken("");
      showSignedIn(false);
      say("已退出。", "");
    });
    signin.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = tokenInput.value.trim();
      if (!token) { say("请先粘贴令牌。", "error"); return; }
      say("正在验证……", "");
      refreshCount(token).then(function (ok) {
        if (ok) { setToken(token); tokenInput.value = ""; showSignedIn(true); say("已登录。", "ok"); }
        else if (!getToken()) { say("令牌无效，请检查后重试。", "error"); }
      }, offline);
    });

    function proposal() {
      var type = select.value;
      if (type === "rule") { return inputs.rule.value.trim() ? { rule: inputs.rule.value } : null; }
      if (type === "add_phrasing") {
        return inputs.phrasing.value.trim() ? { add_phrasing: inputs.phrasing.value } : null;
      }
      if (type === "add_scenario") {
        if (!inputs.case.value.trim() && !inputs.answer.value.trim()) { return null; }
        return { add_scenario: { case: inputs.case.value, answer: inputs.answer.value } };
      }
      if (type === "scenario") {
        if (!inputs.index.value && !inputs.answer.value.trim()) { return null; }
        if (!inputs.index.value) { return { error: "请选择要修改的场景。" }; }
        return { scenario: parseInt(inputs.index.value, 10), answer: inputs.answer.value };
      }
      return null;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = getToken();
      if (!token) { showSignedIn(false); return; }
      if (!kind) { say("请先选择问题类型：" + KINDS.map(function (k) { return k[1]; }).join("、") + "。", "error"); return; }
      if (!note.value.trim()) { say("请写一句说明：哪里不对？", "error"); note.focus(); return; }
      var body = { entry: entry, kind: kind, note: note.value };
      var fixValue = proposal();
      if (fixValue && fixValue.error) { say(fixValue.error, "error"); inputs.index.focus(); return; }
      if (fixValue) { body.proposal = fixValue; }
      /* The same submission (same text) retried keeps its key; a changed one gets a new key. */
      var fingerprint = JSON.stringify(body);
      if (fingerprint !== pending.body) { pending = { body: fingerprint, key: uuid() }; }
      submit.disabled = true;
      say("正在提交……", "");
      call(base, "POST", "/api/flags", token, body, { "Idempotency-Key": pending.key }).then(function (res) {
        if (res.status === 201) {
          pending = { body: "", key: "" };
          say("已提交，谢谢！知识库负责人会尽快处理。", "ok",
              res.data && res.data.branch ? [el("span", { class: "zf-detail zf-branch", text: "审核分支：" + res.data.branch })] : []);
          note.value = "";
          Object.keys(inputs).forEach(function (key) { inputs[key].value = ""; });
          select.value = "";
          showFields();
          fix.open = false;
          kind = "";
          kindButtons.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
          refreshCount(token).catch(function () { /* the flag is in; the count can wait */ });
        } else if (res.status === 401) {
          setToken("");
          showSignedIn(false);
          say("登录已失效，请重新输入令牌。你写的内容还在，登录后可以再提交。", "error");
        } else if (res.status === 429) {
          say("提交太频繁了，请稍等一会儿再试。", "error");
        } else {
          var details = (res.data && Array.isArray(res.data.details)) ? res.data.details : [];
          var fallback = res.status >= 500 ? "反馈服务暂时不可用，请稍后再试。你写的内容还在。"
                                           : "提交没有成功（错误 " + res.status + "），请检查填写的内容后再试。";
          say(humanize(res.data && res.data.error, fallback), "error",
              details.map(function (d) {
                var text = typeof d === "string" ? d : (d && (d.message || "")) + (d && d.hint ? "：" + d.hint : "");
                return el("span", { class: "zf-detail", text: humanize(text, "") });
              }).filter(function (node) { return node.textContent; }));
        }
      }, function () {
        say(OFFLINE + "你写的内容还在，稍后可以再提交。", "offline");
      }).finally(function () { submit.disabled = false; });
    });

    showFields();
    var token = getToken();
    showSignedIn(Boolean(token));
    call(base, "GET", "/healthz").then(function (res) {
      if (res.status !== 200) { offline(); return; }
      if (token) { refreshCount(token).catch(offline); }
    }, offline);
  }

  function addStyles() {
    if (!SCRIPT_SRC || document.querySelector('link[href*="zhiku-feedback.css"]')) { return; }
    document.head.appendChild(el("link", {
      rel: "stylesheet", href: SCRIPT_SRC.replace(/\.js(\?.*)?$/, ".css")
    }));
  }

  function init() {
    addStyles();
    var nodes = document.querySelectorAll(".zhiku-feedback[data-entry]");
    Array.prototype.forEach.call(nodes, mount);
  }

  /* Material's instant navigation swaps pages without reloading: re-run on each page. */
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
