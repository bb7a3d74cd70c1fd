// Progressive enhancement: autocomplete for the search box (ARIA combobox).
// Everything works without this file.
(function () {
  "use strict";
  const input = document.getElementById("q");
  const list = document.getElementById("suggestions");
  if (!input || !list || !window.fetch) return;
  const url = input.dataset.suggestUrl;
  let items = [];
  let active = -1;
  let timer = null;
  let lastQuery = "";
  // Labels shown after a suggestion, by kind (a word has none).
  const KIND_LABELS = { programme: "programme", country: "pays", region: "région" };

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    items = [];
    active = -1;
  }

  function highlight(index) {
    active = index;
    Array.from(list.children).forEach(function (li, i) {
      li.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) input.setAttribute("aria-activedescendant", "suggestion-" + index);
    else input.removeAttribute("aria-activedescendant");
  }

  function choose(index) {
    const item = items[index];
    if (!item) return;
    if (item.kind === "programme" && item.url) {
      window.location.assign(item.url);
      return;
    }
    // The text takes the place of the typed words it completes (« cote d » -> « Côte d’Ivoire »).
    const words = input.value.trim().split(/\s+/);
    const replaced = Math.min(Math.max(item.replaces || 1, 1), words.length);
    words.splice(words.length - replaced, replaced, item.text);
    input.value = words.join(" ");
    close();
    input.form.submit();
  }

  function render(suggestions) {
    list.replaceChildren();
    items = suggestions;
    suggestions.forEach(function (item, i) {
      const li = document.createElement("li");
      li.id = "suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.textContent = item.text;
      if (KIND_LABELS[item.kind]) {
        const kind = document.createElement("span");
        kind.className = "kind";
        kind.textContent = KIND_LABELS[item.kind];
        li.appendChild(kind);
      }
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(i);
      });
      list.appendChild(li);
    });
    const open = suggestions.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    active = -1;
  }

  function fetchSuggestions() {
    const query = input.value.trim();
    if (query.length < 2) { close(); return; }
    if (query === lastQuery) return;
    lastQuery = query;
    fetch(url + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
      .then(function (data) { if (input.value.trim() === query) render(data.suggestions || []); })
      .catch(close);
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    lastQuery = "";
    timer = setTimeout(fetchSuggestions, 120);
  });
  input.addEventListener("keydown", function (event) {
    if (list.hidden) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight((active + 1) % items.length);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active <= 0 ? items.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      event.preventDefault();  // close the list only: a search field's native Escape would also clear it
      close();
    }
  });
  input.addEventListener("blur", function () { setTimeout(close, 150); });
})();

// Progressive enhancement: the map's caption shows the country under the pointer or the focus.
// Without this file each country still has its <title> (tooltip, accessible name) and is a link.
(function () {
  "use strict";
  const map = document.querySelector(".map-svg");
  const caption = document.querySelector(".map-caption");
  if (!map || !caption) return;

  function show(event) {
    const country = event.target.closest && event.target.closest(".map-svg a, .map-other");
    const title = country && country.querySelector("title");
    caption.textContent = title ? title.textContent : "";
  }

  map.addEventListener("mouseover", show);
  map.addEventListener("focusin", show);
  map.addEventListener("mouseleave", function () { caption.textContent = ""; });
  map.addEventListener("focusout", function () { caption.textContent = ""; });
})();

// Progressive enhancement: on a wide screen the filters' <details> is open (the stylesheet already shows
// its content there; this keeps browsers without ::details-content in step), and on a phone it stays as the
// page rendered it (closed: « Filtres (n) » above the results).
(function () {
  "use strict";
  const panel = document.querySelector(".filters-panel");
  if (!panel || !window.matchMedia) return;
  const wide = window.matchMedia("(min-width: 48.01rem)");
  function follow() { if (wide.matches) panel.open = true; }
  follow();
  wide.addEventListener("change", follow);
})();

// Progressive enhancement: « Monde entier » switches the map between the corpus's frame and the world.
// Dots and round targets keep their size on screen (their radius grows with the frame).
(function () {
  "use strict";
  const map = document.querySelector(".map-svg");
  const button = document.querySelector(".map-zoom");
  if (!map || !button || !map.dataset.world) return;
  const frame = map.getAttribute("viewBox");
  const zoom = parseFloat(map.dataset.zoom) || 1;
  const dots = Array.from(map.querySelectorAll(".map-dot, .map-target"));
  const radii = dots.map(function (dot) { return parseFloat(dot.getAttribute("r")); });
  button.hidden = false;
  button.addEventListener("click", function () {
    const world = button.getAttribute("aria-pressed") !== "true";
    map.setAttribute("viewBox", world ? map.dataset.world : frame);
    dots.forEach(function (dot, i) { dot.setAttribute("r", String(world ? radii[i] * zoom : radii[i])); });
    button.setAttribute("aria-pressed", world ? "true" : "false");
  });
})();
