// Faro chat: one websocket, answers streamed token by token, then replaced by the server's checked,
// sanitised HTML (Markdown and citation chips). Everything else is built from text nodes, never innerHTML.
// While an answer is on its way its bubble says what is happening (searching, n sources found, writing) and
// lists the sources found; the list follows the answer unless the person scrolled up; screen readers hear
// the finished answer once, from #announcer (the message list itself is not a live region).
(function () {
  "use strict";
  const data = (id) => JSON.parse(document.getElementById(id).textContent);
  const strings = data("faro-i18n");
  // Strings of this page's template (translated there), beside the view's.
  for (const node of document.getElementById("faro-strings").content.querySelectorAll("[data-key]")) {
    strings[node.dataset.key] = node.textContent;
  }
  const urls = data("faro-urls");
  const messages = document.getElementById("messages");
  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const stopButton = document.getElementById("stop");
  const status = document.getElementById("status");
  const list = document.getElementById("conversation-list");
  const sidebar = document.getElementById("sidebar");
  const toggle = document.getElementById("toggle-sidebar");
  const announcer = document.getElementById("announcer");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  let socket = null;
  let conversationId = data("faro-conversation") || null;
  let current = null; // the answer being streamed: {article, body, text, sources}
  let retryDelay = 500;
  let following = true; // keep the newest text in view, until the person scrolls up

  const urlFor = (name, id) => urls[name].replace("/0/", `/${id}/`);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Icons are drawn, not taken from a font (emoji fonts are often missing); the button names them.
  const ICONS = {
    up: "M7 10v11H3V10h4zm2 11h8.5a2 2 0 0 0 2-1.6l1.4-7A2 2 0 0 0 19 10h-5l.8-4.2a1.5 1.5 0 0 0-2.7-1.1L9 9.6V21z",
    down: "M17 14V3h4v11h-4zM15 3H6.5a2 2 0 0 0-2 1.6l-1.4 7A2 2 0 0 0 5 14h5l-.8 4.2a1.5 1.5 0 0 0 2.7 1.1L15 14.4V3z",
  };
  function icon(name) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "icon-svg");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  // --- scrolling: follow the answer being written unless the person scrolled up ------------------
  const atBottom = () => messages.scrollHeight - messages.scrollTop - messages.clientHeight < 48;
  messages.addEventListener("scroll", () => { following = atBottom(); }, { passive: true });
  function follow() {
    if (following) messages.scrollTop = messages.scrollHeight;
  }

  // Source quotes are passages of the documents' text, often Markdown: shown as plain text.
  function plainQuote(text) {
    return text
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
      .replace(/(\*\*|__)(.+?)\1/g, "$2") // bold
      .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,;:!?]|$)/g, "$1$2") // italics
      .replace(/`([^`]*)`/g, "$1")
      .replace(/^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+(?=\S))/gm, "") // headings, quotes, list bullets
      .replace(/\|\s*:?-{3,}:?\s*(?=\|)/g, "") // table rules ("| --- | --- |")
      .replace(/(\s*\|\s*)+/g, " · ") // table cells
      .replace(/\s+/g, " ")
      .replace(/^\s*·\s*|\s*·\s*$/g, "")
      .trim();
  }

  // --- socket ------------------------------------------------------------------------------------
  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/chat/`);
    socket.addEventListener("open", () => { status.textContent = ""; retryDelay = 500; setBusy(false); });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) {
        // Signed out, expired or disabled (the server accepts and closes with 4401, whether the socket was
        // open or just opening): never reconnect, send the person to sign in and back to this page.
        status.textContent = strings.unauthenticated;
        send.disabled = true;
        const next = encodeURIComponent(window.location.pathname + window.location.search);
        window.setTimeout(() => window.location.assign(`${urls.login}?next=${next}`), 1500);
        return;
      }
      if (current) {
        // The answer in flight is lost with the socket: say so, and let the next question through.
        current.article.dataset.state = "error";
        current.progress.remove();
        current.body.textContent = `${current.text}\n\n${strings.disconnected}`;
        current = null;
      }
      setBusy(false);
      send.disabled = true;
      status.textContent = strings.disconnected;
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 8000);
    });
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
  }

  function setBusy(busy) {
    send.hidden = busy;
    stopButton.hidden = !busy;
    send.disabled = busy || !socket || socket.readyState !== WebSocket.OPEN;
  }

  // --- messages ----------------------------------------------------------------------------------
  function bubble(role, text) {
    const article = el("article", `message ${role}`);
    const body = el("div", "body", text);
    article.appendChild(body);
    messages.appendChild(article);
    return { article, body };
  }

  // compact: titles and places only, for the passages found while the answer is written (short enough to
  // keep the answer's first lines in view); the finished answer lists its cited passages with their quotes.
  function renderSources(article, sources, heading, compact = false) {
    const previous = article.querySelector("aside.sources");
    if (previous) previous.remove(); // the sources found while writing give way to the cited ones
    if (!sources.length) return;
    const box = el("aside", compact ? "sources found" : "sources");
    box.appendChild(el("h2", "", heading));
    const ol = el("ol");
    for (const source of sources) {
      const item = el("li");
      item.value = source.n;
      item.id = `${article.id}-source-${source.n}`;
      const link = el("a", "source-link", source.title);
      link.href = source.url;
      const where = el("span", "where", source.location ? ` · ${source.location}` : "");
      item.append(link, where);
      if (!compact) item.append(el("blockquote", "", plainQuote(source.quote)));
      ol.appendChild(item);
    }
    box.appendChild(ol);
    article.appendChild(box);
  }

  function confidenceBadge(answer) {
    const badge = el("span", "badge");
    if (answer.refused) {
      badge.classList.add("refused");
      badge.textContent = strings.refused;
    } else {
      badge.classList.add(`confidence-${answer.confidence}`);
      badge.textContent = strings[`confidence_${answer.confidence}`];
    }
    badge.dataset.confidence = answer.confidence;
    return badge;
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  }

  function feedbackControls(article, answer) {
    const bar = el("div", "actions");
    const copy = el("button", "action copy", strings.copy);
    copy.type = "button";
    copy.addEventListener("click", async () => {
      const text = answer.text;
      try { await navigator.clipboard.writeText(text); } catch (e) { fallbackCopy(text); }
      copy.textContent = strings.copied;
      setTimeout(() => { copy.textContent = strings.copy; }, 1500);
    });
    const up = el("button", "action vote up");
    const down = el("button", "action vote down");
    up.type = down.type = "button";
    up.append(icon("up"), el("span", "", strings.helpful));
    down.append(icon("down"), el("span", "", strings.not_helpful));
    const commentForm = el("form", "feedback-comment");
    commentForm.hidden = true;
    const comment = el("textarea");
    comment.rows = 2;
    comment.maxLength = 2000;
    comment.placeholder = strings.comment_placeholder;
    comment.ariaLabel = strings.comment_placeholder;
    const submit = el("button", "secondary", strings.send_comment);
    submit.type = "submit";
    commentForm.append(comment, submit);
    const thanks = el("span", "thanks");
    thanks.setAttribute("role", "status");
    let rating = answer.feedback ? answer.feedback.rating : 0;
    const show = () => {
      up.setAttribute("aria-pressed", String(rating === 1));
      down.setAttribute("aria-pressed", String(rating === -1));
    };
    const vote = async (value) => {
      rating = value;
      show();
      const response = await postJSON(urlFor("feedback", answer.message_id), { rating, comment: comment.value });
      if (response.ok) {
        commentForm.hidden = false;
        comment.focus();
      }
    };
    up.addEventListener("click", () => vote(1));
    down.addEventListener("click", () => vote(-1));
    commentForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await postJSON(urlFor("feedback", answer.message_id), { rating, comment: comment.value });
      if (response.ok) { commentForm.hidden = true; thanks.textContent = strings.thanks; input.focus(); }
    });
    comment.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); commentForm.requestSubmit(); }
    });
    if (answer.feedback) comment.value = answer.feedback.comment;
    show();
    bar.append(confidenceBadge(answer), copy, up, down, thanks);
    article.append(bar, commentForm);
  }

  function fallbackCopy(text) {
    const area = el("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  // A finished answer: the server's sanitised HTML, its sources, badge and feedback controls.
  function complete(article, body, answer) {
    article.id = `answer-${answer.message_id}`;
    article.dataset.messageId = answer.message_id;
    article.dataset.confidence = answer.confidence;
    article.dataset.refused = String(answer.refused);
    const progress = article.querySelector(".progress");
    if (progress) progress.remove();
    body.innerHTML = answer.html; // sanitised on the server (chatbot/rendering.py)
    if (answer.fallback) article.insertBefore(el("p", "note fallback", strings.fallback), body);
    if (answer.stopped) article.appendChild(el("p", "note stopped", strings.stopped));
    if (answer.unsupported) article.appendChild(el("p", "note unsupported", strings.unsupported));
    feedbackControls(article, answer);
    // A refusal's closest documents are pointers, titles and places only: quoting their passages under "nothing
    // you can read answers this" read as an unrelated answer (issue 19).
    renderSources(article, answer.sources, answer.refused ? strings.closest : strings.sources, answer.refused);
    article.dataset.state = "done";
  }

  function handle(event) {
    if (event.type === "conversation") {
      if (conversationId !== event.id) addConversation(event.id, event.title);
      conversationId = event.id;
    } else if (event.type === "retrieved" && current) {
      // Searched: say how many passages were found and show them while the answer is written.
      const n = event.sources.length;
      showProgress(current, (n === 1 ? strings.found_one : strings.found_many).replace("{n}", n), "found");
      renderSources(current.article, event.sources, strings.found_heading, true);
      follow();
    } else if (event.type === "token" && current) {
      if (!current.text) {
        const found = current.progress.dataset.stage === "found";
        const writing = found ? `${current.progress.textContent} · ${strings.writing}` : strings.writing;
        showProgress(current, writing.charAt(0).toUpperCase() + writing.slice(1), "writing");
      }
      current.text += event.text;
      current.body.textContent = current.text;
      follow();
    } else if (event.type === "sources" && current) {
      current.sources = event.sources;
    } else if (event.type === "done" && current) {
      current.article.dataset.model = event.model;
      complete(current.article, current.body, { ...event, sources: current.sources, feedback: null });
      announce(current.article);
      follow();
      finish();
    } else if (event.type === "error") {
      let message = strings[event.code] || event.message;
      if (event.code === "rate_limited") message = strings.rate_limited.replace("{seconds}", event.retry_after);
      if (current) {
        current.article.dataset.state = "error";
        current.body.textContent = `${strings.error}: ${message}`;
        current.progress.remove();
        announcer.textContent = current.body.textContent;
      } else {
        status.textContent = message;
      }
      finish(); // the page sends one question at a time, so an error always ends the one it sent
    }
  }

  // What the bubble says before the answer's first words: searching, then n sources found, then writing.
  function showProgress(answer, text, stage) {
    answer.progress.textContent = text;
    answer.progress.dataset.stage = stage;
  }

  // Screen readers hear each finished answer once (the page's live region), never token by token.
  function announce(article) {
    const parts = [article.querySelector(".body").textContent.trim()];
    const badge = article.querySelector(".badge");
    if (badge) parts.push(badge.textContent);
    announcer.textContent = parts.join(" ");
  }

  function finish() {
    current = null;
    setBusy(false);
    input.focus();
  }

  function ask() {
    const question = input.value.trim();
    if (!question || current || !socket || socket.readyState !== WebSocket.OPEN) return;
    const hint = messages.querySelector(".hint");
    if (hint) hint.remove();
    status.textContent = "";
    bubble("user", question);
    const { article, body } = bubble("assistant", "");
    article.dataset.state = "streaming";
    const progress = el("p", "progress", strings.searching);
    progress.dataset.stage = "searching";
    article.insertBefore(progress, body);
    current = { article, body, progress, text: "", sources: [] };
    following = true; // a new question brings the list to its end
    follow();
    setBusy(true);
    input.value = "";
    socket.send(JSON.stringify({ type: "ask", conversation: conversationId, question }));
  }

  function stop() {
    if (current && socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "stop" }));
  }

  // --- conversation list -------------------------------------------------------------------------
  function addConversation(id, title) {
    const item = document.getElementById("conversation-item").content.firstElementChild.cloneNode(true);
    item.dataset.id = id;
    const link = item.querySelector(".conversation-link");
    link.href = urlFor("conversation", id);
    link.textContent = title;
    item.querySelector(".rename").dataset.url = urlFor("rename", id);
    item.querySelector(".delete").dataset.url = urlFor("delete", id);
    for (const other of list.querySelectorAll(".conversation.current")) {
      other.classList.remove("current");
      other.querySelector(".conversation-link").removeAttribute("aria-current");
    }
    item.classList.add("current");
    link.setAttribute("aria-current", "page");
    list.prepend(item);
    window.history.replaceState(null, "", link.href);
  }

  function postForm(url, fields) {
    const body = new URLSearchParams(fields);
    return fetch(url, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": csrf },
      body,
      credentials: "same-origin",
    });
  }

  function startRename(item) {
    const link = item.querySelector(".conversation-link");
    const field = el("input", "rename-field");
    field.value = link.textContent;
    field.maxLength = 200;
    field.ariaLabel = strings.rename;
    link.hidden = true;
    item.insertBefore(field, link);
    field.focus();
    field.select();
    let done = false;
    const end = async (save) => {
      if (done) return;
      done = true;
      if (save && field.value.trim() && field.value.trim() !== link.textContent) {
        const response = await postForm(item.querySelector(".rename").dataset.url, { title: field.value });
        if (response.ok) link.textContent = (await response.json()).title;
      }
      field.remove();
      link.hidden = false;
      link.focus();
    };
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); end(true); }
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); end(false); }
    });
    field.addEventListener("blur", () => end(true));
  }

  async function remove(item) {
    if (!window.confirm(strings.delete_confirm)) return;
    const response = await postForm(item.querySelector(".delete").dataset.url, {});
    if (!response.ok) return;
    if (Number(item.dataset.id) === conversationId) { window.location.assign(urls.home); return; }
    item.remove();
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const item = button.closest(".conversation");
    if (button.classList.contains("rename")) startRename(item);
    if (button.classList.contains("delete")) remove(item);
  });

  // --- history, keyboard, start ------------------------------------------------------------------
  for (const entry of data("faro-history")) {
    if (entry.role === "user") { bubble("user", entry.text); continue; }
    const { article, body } = bubble("assistant", "");
    complete(article, body, entry);
  }
  // A conversation opens at its latest turn: its last question at the top, or the end if that is shorter.
  const questions = messages.querySelectorAll("article.message.user");
  const lastQuestion = questions[questions.length - 1];
  if (lastQuestion) messages.scrollTop = Math.max(0, lastQuestion.offsetTop - messages.offsetTop - 8);
  following = atBottom();

  // The conversation drawer (phones): the toggle, Esc and a tap outside close it.
  function setDrawer(open, { focus = false } = {}) {
    sidebar.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("drawer-open", open);
    if (open && focus) document.getElementById("new-conversation").focus();
    if (!open && focus) toggle.focus();
  }
  toggle.addEventListener("click", () => setDrawer(!sidebar.classList.contains("open"), { focus: true }));
  document.addEventListener("click", (event) => {
    if (sidebar.classList.contains("open") && !sidebar.contains(event.target) && !toggle.contains(event.target)) {
      setDrawer(false);
    }
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); ask(); });
  stopButton.addEventListener("click", stop);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); ask(); }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (sidebar.classList.contains("open")) { event.preventDefault(); setDrawer(false, { focus: true }); return; }
    if (current) { event.preventDefault(); stop(); }
  });
  connect();
  input.focus();
})();
