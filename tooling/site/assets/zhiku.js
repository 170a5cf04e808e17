/* Zhiku page helpers: one-click copy for replies, the home page's search button,
   search that starts on pasted text, and an honest result line when not sure.
   Plain script, no dependencies, no requests. */
(function () {
  "use strict";

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "-1000px";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return fallbackCopy(text);
      });
    }
    return fallbackCopy(text);
  }

  function flash(button, label, done) {
    var original = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", original);
    button.textContent = label;
    button.classList.toggle("zhiku-copy--done", done);
    window.setTimeout(function () {
      button.textContent = original;
      button.classList.remove("zhiku-copy--done");
    }, 1500);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;

    var copy = target.closest(".zhiku-copy");
    if (copy) {
      var reply = copy.closest(".zhiku-reply");
      var textNode = reply && reply.querySelector(".zhiku-reply__text");
      if (!textNode) return;
      copyText(textNode.innerText.trim()).then(
        function () { flash(copy, "已复制", true); },
        function () { flash(copy, "复制失败,请手动选择", false); }
      );
      return;
    }

    if (target.closest("[data-zhiku-search]")) {
      var toggle = document.getElementById("__search");
      var input = document.querySelector("[data-md-component=search-query]");
      if (toggle) {
        toggle.checked = true;
        toggle.dispatchEvent(new Event("change"));
      }
      if (input) {
        window.setTimeout(function () { input.focus(); }, 50);
      }
    }
  });

  /* Material's search reads the query on keyup. Text that arrives without a key
     press (pasted by long-press on a phone, dropped, or chosen from an input
     method's list) fires only `input`, and the search would keep saying
     键入以开始搜索. Pass such input on as a keyup. */
  function isSearchQuery(target) {
    return target instanceof Element && target.matches("[data-md-component=search-query]");
  }

  document.addEventListener(
    "input",
    function (event) {
      if (!isSearchQuery(event.target)) return;
      event.target.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
    },
    true
  );

  document.addEventListener(
    "paste",
    function (event) {
      if (!isSearchQuery(event.target)) return;
      var input = event.target;
      // The pasted text is in the field only after this event; `input` follows in
      // browsers that fire it, this covers the ones that do not.
      window.setTimeout(function () {
        input.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
      }, 0);
    },
    true
  );

  /* When the search worker puts its 没有找到可信的答案 notice first (a link to "#"),
     Material's line above the list would still say "N 个符合条件的结果": say that
     nothing trusted was found instead (Material turns the notice's "#" into "…?h=#").
     Then, and when nothing was found at all, the line also offers the team's first
     phone contact from the page footer as a tap-to-call link: a resident whose lift
     stopped at night, or whose question the knowledge base does not answer, has
     someone to call. Material writes that line after the list, so the whole result box
     is watched; the checks make our own writes no-ops. */
  var NOT_SURE_META = "没有把握：下列条目仅供参考";
  var HELP_CLASS = "zhiku-search-help";
  function hotline() {
    var link = document.querySelector(".zhiku-footer-contacts a.zhiku-tel");
    if (!link) return null;
    var item = link.closest("li");
    var label = item && item.querySelector(".zhiku-footer-contacts__label");
    var help = document.createElement("span");
    help.className = HELP_CLASS;
    help.appendChild(
      document.createTextNode("急事或没找到答案，请直接联系：" + (label ? label.textContent + " " : ""))
    );
    var call = document.createElement("a");
    call.className = "zhiku-tel";
    call.href = link.getAttribute("href");
    call.textContent = link.textContent;
    help.appendChild(call);
    return help;
  }
  function honestCount() {
    var meta = document.querySelector(".md-search-result__meta");
    if (!meta) return;
    var first = document.querySelector(".md-search-result__list > li a");
    var input = document.querySelector("input[data-md-component=search-query]");
    var unsure = first && /#$/.test(first.getAttribute("href") || "");
    var nothing = !first && input && input.value.trim() !== "";
    if (!unsure && !nothing) return;
    var lead = meta.firstChild;
    if (unsure && !(lead && lead.nodeType === 3 && lead.nodeValue === NOT_SURE_META)) {
      meta.textContent = NOT_SURE_META;
    }
    if (meta.querySelector("." + HELP_CLASS)) return;
    var help = hotline();
    if (help) meta.appendChild(help);
  }
  var results = document.querySelector(".md-search-result");
  if (results && window.MutationObserver) {
    new MutationObserver(honestCount).observe(results, {
      childList: true,
      characterData: true,
      subtree: true
    });
  }
})();
