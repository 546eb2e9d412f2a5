// "/" anywhere outside a text field moves the focus to the search box (the header's, or the
// search page's own), as on many sites. WCAG 2.1.4 (character key shortcuts): it can be
// turned off, per browser, with the button the home page shows (data-concord-shortcut-toggle),
// and it never fires while typing in a field.
const STORE = "concord.searchShortcut";

function searchBox() {
  return document.querySelector("[data-concord-search-box]") || document.getElementById("id_query");
}

function enabled() {
  try {
    return window.localStorage.getItem(STORE) !== "off";
  } catch {
    return true; // storage refused (private mode): the default
  }
}

function typing(target) {
  return target instanceof Element &&
    (target.isContentEditable || target.closest("input, textarea, select, [contenteditable]") !== null);
}

document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  if (!enabled() || typing(event.target)) return;
  const box = searchBox();
  if (!box) return;
  event.preventDefault(); // the "/" is not typed into the box
  box.focus();
});

const toggle = document.querySelector("[data-concord-shortcut-toggle]");
if (toggle) {
  const label = () => {
    toggle.textContent = enabled()
      ? "Turn off the / shortcut to the search box"
      : "Turn on the / shortcut to the search box";
  };
  toggle.addEventListener("click", () => {
    try {
      window.localStorage.setItem(STORE, enabled() ? "off" : "on");
    } catch {
      return;
    }
    label();
  });
  label();
  toggle.hidden = false; // without JavaScript there is no shortcut, so nothing to turn off
}
