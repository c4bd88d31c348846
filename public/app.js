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

// In-page actions (htmx). An error answer is never swapped into the page (the layout's htmx-config lists 4xx and
// 5xx under noSwap): a notice at the top says what happened, and what was on the page stays as it was.
(() => {
  const here = () => location.pathname + location.search;

  /** Shows `message` (once: the same message again replaces it), with an optional link to what to do about it. */
  const notify = (message, link) => {
    const area = document.getElementById('page-notices');
    if (!area) return;
    for (const old of area.querySelectorAll('[data-notice]')) if (old.dataset.notice === message) old.remove();
    const notice = document.createElement('div');
    notice.className = 'alert alert-error page-notice';
    notice.setAttribute('role', 'alert');
    notice.dataset.notice = message;
    const text = document.createElement('span');
    text.textContent = `${message} `;
    notice.append(text);
    if (link) {
      const anchor = document.createElement('a');
      anchor.href = link.href;
      anchor.textContent = link.text;
      notice.append(anchor);
    }
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'notice-close';
    close.setAttribute('aria-label', 'Dismiss this notice');
    close.textContent = '×';
    close.addEventListener('click', () => notice.remove());
    notice.append(close);
    area.prepend(notice);
  };

  /** The title and explanation of one of our error pages (views/error.tsx), when the answer is one. */
  const errorPage = (html) => {
    const page = new DOMParser().parseFromString(html ?? '', 'text/html');
    const title = page.querySelector('#error-title')?.textContent?.trim() ?? '';
    const detail = page.querySelector('.error-page .error-detail')?.textContent?.trim() ?? '';
    return { title, detail };
  };
  const sentence = (...parts) =>
    parts
      .filter(Boolean)
      .map((part) => (/[.!?]$/.test(part) ? part : `${part}.`))
      .join(' ');

  document.addEventListener('htmx:response:error', (event) => {
    const { response, text } = event.detail.ctx;
    const reload = { href: here(), text: 'Reload the page' };
    if (response.status === 401) {
      const login = response.headers.get('x-login-url') ?? `/login?next=${encodeURIComponent(here())}`;
      notify('Your session expired — sign in again to continue.', { href: login, text: 'Sign in' });
      return;
    }
    const { title, detail } = errorPage(text);
    if (response.status === 404) notify(sentence('Someone deleted this, or it no longer exists', detail), reload);
    else if (response.status >= 500)
      notify(sentence('The server could not do that', detail || `HTTP ${response.status}`), reload);
    else notify(sentence(title || `The server refused this (HTTP ${response.status})`, detail), reload);
  });

  // No answer at all: the network or the server is down.
  document.addEventListener('htmx:error', (event) => {
    const ctx = event.detail.ctx;
    if (!ctx || ctx.response) return;
    notify('Could not reach the server. Check the connection, then try again.');
  });

  // Busy states: a control whose request runs says so and takes no second press (hx-sync drops it anyway).
  // aria-disabled, not disabled: a disabled button would lose the keyboard focus.
  document.addEventListener('htmx:before:request', (event) => {
    const source = event.detail.ctx.sourceElement;
    const busy = source?.closest?.('[data-busy]') ?? source;
    if (!(busy instanceof Element)) return;
    busy.setAttribute('aria-busy', 'true');
    for (const button of busy.matches('button, a') ? [busy] : busy.querySelectorAll('button'))
      button.setAttribute('aria-disabled', 'true');
  });
  document.addEventListener('htmx:finally:request', (event) => {
    const source = event.detail.ctx.sourceElement;
    const busy = source?.closest?.('[data-busy]') ?? source;
    if (!(busy instanceof Element)) return;
    busy.removeAttribute('aria-busy');
    for (const button of busy.matches('button, a') ? [busy] : busy.querySelectorAll('button'))
      button.removeAttribute('aria-disabled');
  });

  // A row that leaves the list in place (deleted, or moved to another tab) takes the focus with it:
  // hand it to the same control of the row that takes its place, else to the current tab.
  let leaving;
  document.addEventListener('htmx:before:request', (event) => {
    const row = event.detail.ctx.sourceElement?.closest?.('#integration-rows > tr');
    leaving = row
      ? {
          index: [...row.parentElement.children].indexOf(row),
          switch: row.contains(document.activeElement) && document.activeElement?.matches('[role="switch"]'),
        }
      : undefined;
  });
  document.addEventListener('htmx:finally:request', () => {
    if (!leaving) return;
    const { index, switch: onSwitch } = leaving;
    leaving = undefined;
    requestAnimationFrame(() => {
      if (document.activeElement && document.activeElement !== document.body) return;
      const rows = document.querySelectorAll('#integration-rows > tr');
      const row = rows[Math.min(index, rows.length - 1)];
      const next = row?.querySelector(onSwitch ? '[role="switch"]' : '[role="switch"], a, button');
      (next ?? document.querySelector('#integration-tabs [aria-current="page"]'))?.focus();
    });
  });
})();

// Menus (<details class="menu">): Escape closes the open one and gives the focus back to its button; a click
// outside closes it; opening one closes the others.
(() => {
  const openMenus = () => document.querySelectorAll('details.menu[open]');
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    for (const menu of openMenus()) {
      const hadFocus = menu.contains(document.activeElement);
      menu.open = false;
      if (hadFocus) menu.querySelector('summary')?.focus();
    }
  });
  document.addEventListener('click', (event) => {
    for (const menu of openMenus()) if (!menu.contains(event.target)) menu.open = false;
  });
  document.addEventListener(
    'toggle',
    (event) => {
      const opened = event.target;
      if (!(opened instanceof HTMLDetailsElement) || !opened.matches('.menu') || !opened.open) return;
      for (const menu of openMenus()) if (menu !== opened) menu.open = false;
    },
    true,
  );
})();

// Relative times ("5 min ago") stay current while the page is open; the absolute time is in the tooltip.
(() => {
  const relative = (value, now) => {
    const seconds = Math.round((value - now) / 1000);
    const magnitude = Math.abs(seconds);
    if (magnitude < 45) return seconds > 0 ? 'in a few seconds' : 'just now';
    const [amount, unit] =
      magnitude < 3600
        ? [Math.round(magnitude / 60), 'min']
        : magnitude < 86400
          ? [Math.round(magnitude / 3600), 'h']
          : [Math.round(magnitude / 86400), magnitude < 172800 ? 'day' : 'days'];
    return seconds > 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`;
  };
  setInterval(() => {
    const now = Date.now();
    for (const time of document.querySelectorAll('time[data-relative]'))
      time.textContent = relative(Date.parse(time.dateTime), now);
  }, 30_000);
})();

// A form answered with errors: the focus goes to its error summary, which links to each field.
{
  const summary = document.querySelector('[data-error-summary]');
  if (summary instanceof HTMLElement) summary.focus();
}

// A plain form that undoes something (revoking a token) asks first: data-confirm holds the question. A plain
// form marked data-busy (Resend, Retry all) is busy once sent: its button says so and a second press is ignored.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.hasAttribute('hx-post')) return;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (!form.hasAttribute('data-busy')) return;
  if (form.getAttribute('aria-busy') === 'true') {
    event.preventDefault();
    return;
  }
  form.setAttribute('aria-busy', 'true');
  for (const button of form.querySelectorAll('button[type="submit"]')) button.setAttribute('aria-disabled', 'true');
});
// Back to a page from the browser's cache: its forms are not busy any more.
window.addEventListener('pageshow', () => {
  for (const form of document.querySelectorAll('form[aria-busy="true"]:not([hx-post])')) {
    form.removeAttribute('aria-busy');
    for (const button of form.querySelectorAll('[aria-disabled]')) button.removeAttribute('aria-disabled');
  }
});

// A table wider than its card scrolls inside it: then keyboard users can focus the card to scroll it.
{
  const scrollables = () => {
    for (const wrap of document.querySelectorAll('.table-wrap')) {
      const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.toggleAttribute('tabindex', scrolls);
      if (scrolls) {
        wrap.tabIndex = 0;
        wrap.setAttribute('role', 'region');
        wrap.setAttribute('aria-label', 'Table (scrolls sideways)');
      } else {
        wrap.removeAttribute('role');
        wrap.removeAttribute('aria-label');
      }
    }
  };
  scrollables();
  window.addEventListener('resize', scrollables);
  document.addEventListener('htmx:after:swap', scrollables);
}
