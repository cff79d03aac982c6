// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to the error summary so screen reader and keyboard users hear what to fix first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }

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
