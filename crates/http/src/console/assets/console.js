// Tessera console: the little that needs JavaScript. Loaded from Tessera
// itself (no inline script: the Content-Security-Policy forbids it).
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", function () {
  // The organization switcher submits on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // A select with data-reveals shows only the fields that belong to its
  // choice: [data-revealed-by=<select name>][data-reveal-value=<values>], the
  // values separated by spaces. Without JavaScript every field shows and the
  // server reads what the choice needs.
  document.querySelectorAll("select[data-reveals]").forEach(function (select) {
    var update = function () {
      document.querySelectorAll("[data-revealed-by=\"" + select.name + "\"]").forEach(function (field) {
        field.hidden = field.getAttribute("data-reveal-value").split(" ").indexOf(select.value) < 0;
      });
    };
    select.addEventListener("change", update);
    update();
  });

  // Copy-to-clipboard buttons: data-copy-target names the element to copy.
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      if (!source) { return; }
      var text = source.textContent;
      var done = function () {
        button.textContent = button.getAttribute("data-copied-label") || button.textContent;
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(source); done(); });
      } else {
        fallbackCopy(source);
        done();
      }
    });
  });

  // A form whose answer is a download (a key file) leaves the page as it is;
  // once the download has started, go back to the page without the dialog.
  document.querySelectorAll("form[data-after-submit]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var next = form.getAttribute("data-after-submit");
      window.setTimeout(function () { window.location.assign(next); }, 1500);
    });
  });

  // Closing a show-once dialog wipes the secret from the page before leaving it.
  document.querySelectorAll("[data-wipe]").forEach(function (link) {
    link.addEventListener("click", function () {
      var secret = document.getElementById(link.getAttribute("data-wipe"));
      if (secret) { secret.textContent = ""; }
    });
  });
});

function fallbackCopy(element) {
  var range = document.createRange();
  range.selectNodeContents(element);
  var selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
  selection.removeAllRanges();
}
