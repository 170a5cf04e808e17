/* 知库 feedback panel (staff site only).
 *
 * Fills every <div class="zhiku-feedback" data-entry="ID"> with a small form that
 * sends a flag to the feedback app named by <meta name="zhiku-app" content="URL">.
 * The staff member's personal token is kept in localStorage. If the app cannot be
 * reached the panel says so calmly and the page keeps working.
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
  /* The stylesheet sits next to this script; added unless the site already links it. */
  var SCRIPT_SRC = (document.currentScript && document.currentScript.src) || "";
  var OFFLINE = "反馈服务暂时无法连接,请稍后再试。页面其他内容不受影响。";

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

  /* Resolves {status, data}; rejects only when the app cannot be reached. */
  function call(base, method, path, token, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var headers = {};
    if (token) { headers.Authorization = "Bearer " + token; }
    if (body) { headers["Content-Type"] = "application/json"; }
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
      placeholder: "粘贴你的个人令牌", "aria-label": "个人令牌"
    });
    var signin = el("form", { class: "zf-signin" }, [
      el("p", { class: "zf-hint", text: "登录后可以标记本条目的问题。令牌请向知识库管理员索取。" }),
      el("div", { class: "zf-row" }, [tokenInput, el("button", { type: "submit", text: "登录" })])
    ]);

    var kindButtons = KINDS.map(function (kind) {
      return el("button", {
        type: "button", class: "zf-kind", "data-kind": kind[0], "aria-pressed": "false",
        text: kind[1]
      });
    });
    var note = el("textarea", {
      class: "zf-note", rows: "3", maxlength: "2000", "aria-label": "说明",
      placeholder: "哪里不对?正确的应该是什么?(必填)"
    });
    var select = el("select", { class: "zf-proposal", "aria-label": "修改建议类型" },
      PROPOSALS.map(function (p) { return el("option", { value: p[0], text: p[1] }); }));
    var inputs = {
      rule: el("textarea", { rows: "5", maxlength: "8000", placeholder: "新的核心规则(可用 Markdown)" }),
      case: el("input", { type: "text", maxlength: "200", placeholder: "情况,例如:快递路上走了 3 天" }),
      answer: el("textarea", { rows: "3", maxlength: "4000", placeholder: "这种情况怎么答复" }),
      phrasing: el("input", { type: "text", maxlength: "100", placeholder: "大家实际会怎么问" }),
      index: el("input", { type: "number", min: "1", step: "1", inputmode: "numeric",
                           placeholder: "第几个场景(从 1 开始)" })
    };
    var fields = {
      "": [], rule: [inputs.rule], add_scenario: [inputs.case, inputs.answer],
      add_phrasing: [inputs.phrasing], scenario: [inputs.index, inputs.answer]
    };
    var fixBox = el("div", { class: "zf-fix-fields" });
    var fix = el("details", { class: "zf-fix" }, [
      el("summary", { text: "提出修改建议(可选)" }), select, fixBox
    ]);
    var submit = el("button", { type: "submit", class: "zf-submit", text: "提交反馈" });
    var form = el("form", { class: "zf-form" }, [
      el("div", { class: "zf-kinds", role: "group", "aria-label": "问题类型" }, kindButtons),
      note, fix, submit
    ]);

    var panel = el("section", { class: "zf", "aria-label": "条目反馈" }, [
      el("div", { class: "zf-head" }, [el("strong", { text: "发现问题?" }), count, signout]),
      signin, form, status
    ]);
    container.textContent = "";
    container.appendChild(panel);

    var kind = "";
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
      fields[select.value].forEach(function (input) { fixBox.appendChild(input); });
    }
    function refreshCount(token) {
      return call(base, "GET", "/api/flags?entry=" + encodeURIComponent(entry), token)
        .then(function (res) {
          if (res.status === 401) {
            setToken("");
            showSignedIn(false);
            say("登录已失效,请重新输入令牌。", "error");
            return false;
          }
          if (res.status === 200) {
            count.textContent = res.data.count ? "本条目有 " + res.data.count + " 条待处理反馈"
                                               : "暂无待处理反馈";
            return true;
          }
          say((res.data && res.data.error) || "反馈服务出错了(" + res.status + ")", "error");
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
        else if (!getToken()) { say("令牌无效,请检查后重试。", "error"); }
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
        if (!inputs.index.value.trim() && !inputs.answer.value.trim()) { return null; }
        /* The page counts scenarios from 1; the API's index is 0-based. */
        return { scenario: parseInt(inputs.index.value, 10) - 1, answer: inputs.answer.value };
      }
      return null;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = getToken();
      if (!token) { showSignedIn(false); return; }
      if (!kind) { say("请先选择问题类型:答案错误、场景缺失或表述模糊。", "error"); return; }
      if (!note.value.trim()) { say("请写一句说明:哪里不对?", "error"); note.focus(); return; }
      var body = { entry: entry, kind: kind, note: note.value };
      var fixValue = proposal();
      if (fixValue) { body.proposal = fixValue; }
      submit.disabled = true;
      say("正在提交……", "");
      call(base, "POST", "/api/flags", token, body).then(function (res) {
        if (res.status === 201) {
          say("已提交,谢谢!审核分支:", "ok", [el("code", { class: "zf-branch", text: res.data.branch })]);
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
          say("登录已失效,请重新输入令牌。你写的内容还在,登录后可以再提交。", "error");
        } else if (res.status === 429) {
          say("提交太频繁了,请稍等一会儿再试。", "error");
        } else {
          var details = (res.data && res.data.details) || [];
          say((res.data && res.data.error) || "提交失败(" + res.status + ")", "error",
              details.map(function (d) { return el("span", { class: "zf-detail", text: d }); }));
        }
      }, function () {
        say(OFFLINE + "你写的内容还在,稍后可以再提交。", "offline");
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
