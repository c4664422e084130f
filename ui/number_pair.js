// One number, two ways to set it: type the exact figure, or drag. Both controls live here, in the browser, so
// whichever the user touched last is the value however fast they go: neither waits for the server to hear of
// the other. The server sends a value only when it moved elsewhere (a profile applied, a plan opened), under a
// new `version`; otherwise what it sends back is an echo of an edit made here, and this side keeps its own.

const pairs = new WeakMap();

function shown(value, decimals) {
  return decimals === 0 ? String(Math.round(value)) : Number(value).toFixed(decimals);
}

// A slider value as its ends show it and a screen reader says it ("7,700", "3.5×").
function spoken(value, format) {
  const printf = /^%\.(\d+)f(.*)$/.exec(format);
  return printf ? Number(value).toFixed(Number(printf[1])) + printf[2] : Number(value).toLocaleString("en-US");
}

function onSlider(value, d) {
  const steps = Math.round((value - d.low) / d.step);
  return Math.min(Math.max(d.low + steps * d.step, d.low), d.high);
}

function build(root, setStateValue) {
  const html = (tag, attrs = {}, text = "") => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    node.textContent = text;
    return node;
  };
  const wrap = html("div", { class: "pair" });
  const head = html("div", { class: "head" });
  const label = html("label", { for: "box" });
  const help = html("span", { class: "help", "aria-hidden": "true" }, "?");
  const about = html("span", { id: "about", class: "hidden" });
  head.append(label, help, about);
  const field = html("div", { class: "field" });
  const box = html("input", { id: "box", type: "number", inputmode: "decimal", "aria-describedby": "about" });
  const down = html("button", { type: "button", class: "step", tabindex: "-1", "aria-label": "Step down" }, "−");
  const up = html("button", { type: "button", class: "step", tabindex: "-1", "aria-label": "Step up" }, "+");
  field.append(box, down, up);
  const problem = html("div", { class: "problem", role: "alert" });
  const range = html("input", { type: "range", class: "range" });
  const ends = html("div", { class: "ends" });
  const low = html("span");
  const high = html("span");
  ends.append(low, high);
  wrap.append(head, field, problem, range, ends);
  root.append(wrap);

  const pair = { version: undefined, value: 0, d: null, edits: 0 };
  const typing = () => (root.activeElement ?? document.activeElement) === box && wrap.classList.contains("dirty");

  // Every edit is told apart from every other, the same number typed twice included: the server acts on an edit
  // it has not seen, never on the browser repeating the last one.
  const send = () => {
    pair.edits += 1;
    setStateValue("edit", { value: pair.value, version: pair.version, at: `${Date.now()}.${pair.edits}` });
  };
  const outOfRange = (value) => {
    const d = pair.d;
    if (d.min !== null && value < d.min) return `${d.label} must be at least ${shown(d.min, d.decimals)}.`;
    if (d.max !== null && value > d.max) return `${d.label} must be at most ${shown(d.max, d.decimals)}.`;
    return "";
  };
  const place = (value) => {
    range.value = String(onSlider(value, pair.d));
    range.setAttribute("aria-valuetext", spoken(Number(range.value), pair.d.slider_format));
  };
  const show = (value) => {
    pair.value = value;
    place(value);
    box.value = shown(value, pair.d.decimals);
    problem.textContent = "";
    wrap.classList.remove("invalid");
  };
  const commit = () => {
    const typed = box.value.trim();
    const value = Number(typed);
    if (typed === "" || !Number.isFinite(value)) {
      box.value = shown(pair.value, pair.d.decimals);
      problem.textContent = "";
      wrap.classList.remove("invalid");
      return;
    }
    const why = outOfRange(value);
    if (why) {
      problem.textContent = why;
      wrap.classList.add("invalid");
      return;
    }
    if (value === pair.value && !wrap.classList.contains("dirty")) return;
    wrap.classList.remove("dirty");
    show(value);
    send();
  };
  box.addEventListener("input", () => {
    wrap.classList.toggle("dirty", box.value !== shown(pair.value, pair.d.decimals));
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter") commit();
  });
  box.addEventListener("blur", commit);
  const stepBy = (sign) => {
    const d = pair.d;
    let value = Number((pair.value + sign * d.box_step).toFixed(Math.max(d.decimals, 6)));
    if (d.min !== null) value = Math.max(value, d.min);
    if (d.max !== null) value = Math.min(value, d.max);
    wrap.classList.remove("dirty");
    show(value);
    send();
  };
  down.addEventListener("click", () => stepBy(-1));
  up.addEventListener("click", () => stepBy(1));
  range.addEventListener("input", () => {
    wrap.classList.remove("dirty");
    show(Number(range.value));
  });
  range.addEventListener("change", send);

  pair.update = (d) => {
    pair.d = d;
    label.textContent = d.label;
    about.textContent = d.help || "";
    help.title = d.help || "";
    help.hidden = !d.help;
    box.step = String(d.box_step);
    box.min = d.min === null ? "" : String(d.min);
    box.max = d.max === null ? "" : String(d.max);
    range.min = String(d.low);
    range.max = String(d.high);
    range.step = String(d.step);
    range.setAttribute("aria-label", d.slider_label);
    low.textContent = spoken(d.low, d.slider_format);
    high.textContent = spoken(d.high, d.slider_format);
    if (d.version !== pair.version) {
      pair.version = d.version;
      // A value moved elsewhere replaces what is shown, but not a number the user is typing over it.
      const keep = typing();
      pair.value = d.value;
      place(d.value);
      if (!keep) {
        box.value = shown(d.value, d.decimals);
        problem.textContent = "";
        wrap.classList.remove("invalid", "dirty");
      }
    }
  };
  return pair;
}

export default function ({ data, parentElement, setStateValue }) {
  let pair = pairs.get(parentElement);
  if (!pair) {
    pair = build(parentElement, setStateValue);
    pairs.set(parentElement, pair);
  }
  pair.update(data);
}
