// Progressive enhancements for medevidence's pages. Every page works without this file; the CSP allows
// only scripts served from this site, so this is where all page behaviour lives. Text from the server is
// only ever placed with textContent, never parsed as HTML.
"use strict";

(function () {
  // -- progress indicator: answers and uploads take seconds, so say that something is happening ------
  function showProgress(form) {
    var target = document.getElementById(form.getAttribute("data-progress"));
    if (target) { target.hidden = false; }
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
  }

  function resetProgress() {
    document.querySelectorAll("form[data-progress]").forEach(function (form) {
      var target = document.getElementById(form.getAttribute("data-progress"));
      if (target) { target.hidden = true; }
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = false; });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-progress") && !event.defaultPrevented) {
      showProgress(form);
    }
  });
  // Coming back with the Back button restores the page as it was left: busy. Make it usable again.
  window.addEventListener("pageshow", function (event) { if (event.persisted) { resetProgress(); } });

  // -- citations: show the exact cited span, with a link to it highlighted in the document ------------
  var popover = null;
  var opener = null;

  function closePopover(returnFocus) {
    if (!popover) { return; }
    popover.remove();
    popover = null;
    if (opener) {
      opener.setAttribute("aria-expanded", "false");
      if (returnFocus) { opener.focus(); }
    }
    opener = null;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function openPopover(link) {
    var n = link.getAttribute("data-ref");
    var reference = document.querySelector("#ref-" + CSS.escape(n) + " .ref-title");
    var box = element("div", "cite-pop");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", "Cited text from reference " + n);
    box.tabIndex = -1;
    box.appendChild(element("p", "cite-pop-title", "Reference " + n + (reference ? ": " + reference.textContent.trim() : "")));
    var quote = link.getAttribute("data-quote");
    if (quote) {
      var blockquote = element("blockquote");
      var paragraph = element("p");
      paragraph.appendChild(element("mark", "", quote));
      blockquote.appendChild(paragraph);
      blockquote.appendChild(element("p", "where", link.getAttribute("data-where") || ""));
      box.appendChild(blockquote);
    } else {
      box.appendChild(element("p", "", link.getAttribute("data-where") || ""));
    }
    var links = element("p", "links");
    var source = element("a", "source-link", quote ? "Show it highlighted in the document" : "Open the document");
    source.href = link.href;
    links.appendChild(source);
    var details = element("a", "", "Reference details");
    details.href = "#ref-" + n;
    details.addEventListener("click", function () { closePopover(false); });
    links.appendChild(details);
    var close = element("button", "close", "Close");
    close.type = "button";
    close.addEventListener("click", function () { closePopover(true); });
    links.appendChild(close);
    box.appendChild(links);

    var holder = link.closest(".statement") || link.parentElement;
    holder.appendChild(box);
    popover = box;
    opener = link;
    link.setAttribute("aria-expanded", "true");
    box.focus();
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var link = target ? target.closest("a.cite") : null;
    if (link) {
      // A modified click (new tab, new window) goes straight to the document view.
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button !== 0) { return; }
      event.preventDefault();
      var same = opener === link;
      closePopover(false);
      if (!same) { openPopover(link); }
      return;
    }
    if (popover && target && !popover.contains(target)) { closePopover(false); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && popover) { closePopover(true); }
  });

  // -- upload: drag and drop onto the file field ------------------------------------------------------
  document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    var list = zone.querySelector(".chosen");
    if (!input || !list) { return; }

    function showChosen() {
      list.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        list.appendChild(element("li", "", file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)"));
      });
    }

    input.addEventListener("change", showChosen);
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showChosen();
      }
    });
  });

  // -- printing: a button for it, with every cited source passage shown ------------------------------
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.source").forEach(function (details) { details.open = true; });
  });
})();
