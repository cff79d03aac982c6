// Progressive enhancement only: every page works without this file.
// Loaded in <head> without defer, so this class is set before the first paint: CSS folds the menu on narrow
// screens only when this script runs and can open it again.
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", function () {
  // Move focus to the error summary so screen reader and keyboard users hear what to fix first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    if (document.title.indexOf("Feil: ") !== 0) { document.title = "Feil: " + document.title; }
  }

  // A link in the summary moves focus into the field and shows its label (the browser alone would scroll
  // the control to the very top, above its label and message).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) { return; }
    event.preventDefault();
    var control = target.matches("fieldset") ? (target.querySelector("input, select, textarea") || target) : target;
    var field = target.closest(".field") || target;
    field.scrollIntoView();
    control.focus({ preventScroll: true });
  });

  // The menu on a narrow screen: folded behind the «Meny» button.
  var toggle = document.querySelector(".menu-toggle");
  var nav = document.getElementById("hovedmeny");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
    });
  }

  // Menu groups (<details>): close when focus or a click goes elsewhere, and on Escape.
  var groups = document.querySelectorAll("[data-nav-group]");
  function closeGroups(except) {
    Array.prototype.forEach.call(groups, function (group) { if (group !== except) { group.open = false; } });
  }
  document.addEventListener("click", function (event) {
    closeGroups(event.target.closest ? event.target.closest("[data-nav-group]") : null);
  });
  document.addEventListener("focusin", function (event) {
    closeGroups(event.target.closest ? event.target.closest("[data-nav-group]") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = event.target.closest ? event.target.closest("[data-nav-group][open]") : null;
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });

  // A "Kopier" button beside read-only addresses (calendar links). Without JavaScript the field can
  // be selected and copied by hand, so the button only exists when it can work.
  var fields = document.querySelectorAll("input[data-copy-field]");
  Array.prototype.forEach.call(fields, function (field) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-secondary";
    button.textContent = "Kopier";
    var label = document.querySelector('label[for="' + field.id + '"]');
    if (label) { button.setAttribute("aria-label", "Kopier " + label.textContent.trim().toLowerCase()); }
    var status = document.createElement("span");
    status.setAttribute("role", "status");
    status.className = "hint";
    field.insertAdjacentElement("afterend", status);
    field.insertAdjacentElement("afterend", button);

    field.addEventListener("focus", function () { field.select(); });

    function copiedByHand() {
      field.focus();
      field.select();
      status.textContent = " Adressen er merket. Trykk Ctrl+C (Cmd+C på Mac) for å kopiere den.";
    }
    function copied() { status.textContent = " Adressen er kopiert."; }

    button.addEventListener("click", function () {
      status.textContent = "";
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(copied, copiedByHand);
        return;
      }
      field.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      if (ok) { copied(); } else { copiedByHand(); }
    });
  });
});
