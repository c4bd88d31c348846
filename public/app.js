// Small progressive enhancements; every page works without them.
(() => {
  // Events tree: the search box hides event types (and whole entities) that do not match.
  document.addEventListener('input', (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches('[data-event-search]')) return;
    const query = input.value.trim().toLowerCase();
    for (const entity of document.querySelectorAll('.event-tree .entity')) {
      const entityMatches = entity.dataset.entity.includes(query);
      let anyVisible = false;
      for (const item of entity.querySelectorAll('li[data-event]')) {
        const visible = query === '' || entityMatches || item.dataset.event.includes(query);
        item.classList.toggle('is-filtered-out', !visible);
        anyVisible ||= visible;
      }
      entity.classList.toggle('is-filtered-out', !anyVisible);
    }
  });

  // Ticking a whole entity covers its events: show them ticked and set them aside
  // (disabled inputs are not submitted, so the entity alone is saved).
  document.addEventListener('change', (event) => {
    const toggle = event.target;
    if (!(toggle instanceof HTMLInputElement) || !toggle.matches('[data-entity-toggle]')) return;
    for (const box of toggle.closest('.entity').querySelectorAll('li input[type="checkbox"]')) {
      box.checked = toggle.checked;
      box.disabled = toggle.checked;
    }
  });
})();

// API reference: the search box shows only the operations that match, in the list and the page.
document.addEventListener('input', (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.matches('[data-api-filter]')) return;
  const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const operation of document.querySelectorAll('[data-api-search]')) {
    const text = `${operation.dataset.apiSearch} ${operation.textContent.toLowerCase()}`;
    const visible = words.every((word) => text.includes(word));
    operation.hidden = !visible;
    document.querySelector(`[data-api-link="${operation.id}"]`)?.toggleAttribute('hidden', !visible);
    if (visible) shown++;
  }
  for (const group of document.querySelectorAll('[data-api-group]')) {
    group.hidden = group.querySelector('[data-api-search]:not([hidden]), [data-api-link]:not([hidden])') === null;
  }
  document.querySelector('[data-api-empty]')?.toggleAttribute('hidden', shown > 0);
});

// S3 key template: the example key follows what is typed (the server fills and checks the template).
(() => {
  const FIELDS = ['id', 'key_template', 'key_prefix', 'format', 'compression'];
  let timer;
  const refresh = (form) => {
    const example = form.querySelector('[data-key-example]');
    const query = new URLSearchParams();
    for (const name of FIELDS) {
      const field = form.elements.namedItem(name);
      if (field && 'value' in field) query.set(name, field.value);
    }
    fetch(`/tools/event-stream/new/key-example?${query}`, { headers: { accept: 'application/json' } })
      .then((response) => (response.ok ? response.json() : undefined))
      .then((answer) => {
        if (answer) example.textContent = answer.example;
      })
      .catch(() => {});
  };
  const changed = (event) => {
    const field = event.target;
    const form = field instanceof Element ? field.closest('form') : null;
    if (!form?.querySelector('[data-key-example]') || !FIELDS.includes(field.name)) return;
    clearTimeout(timer);
    timer = setTimeout(() => refresh(form), 200);
  };
  document.addEventListener('input', changed);
  document.addEventListener('change', changed);
})();

// A page answered to a form that must not be sent twice (a new channel, its secret shown once) takes the
// address of what it shows, so that reloading it reads that page instead of submitting the form again.
{
  const replacement = document.querySelector('[data-replace-url]');
  if (replacement) history.replaceState(null, '', replacement.dataset.replaceUrl);
}
