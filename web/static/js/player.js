/*
 * player.js - the replay player: an asciicast v2 recording (the same
 * sanitised output `replay` gives over ssh, fetched once) played into
 * xterm.js with play, pause, seek and speed. Seeking resets the
 * terminal and writes everything up to the new time at once.
 */
"use strict";

/* Parse asciicast v2 text: {width, height, events: [[t, data]], duration}.
 * Lines that are not output events are skipped. */
B.parseCast = function (text) {
  const lines = String(text).split("\n").filter(l => l.trim() !== "");
  if (lines.length === 0) throw new Error(B.t("replay.empty"));
  const head = JSON.parse(lines[0]);
  const events = [];
  for (const l of lines.slice(1)) {
    let e;
    try {
      e = JSON.parse(l);
    } catch (x) {
      continue;
    }
    if (Array.isArray(e) && typeof e[0] === "number" && e[1] === "o" && typeof e[2] === "string")
      events.push([e[0], e[2]]);
  }
  return {width: head.width || 80, height: head.height || 24, events,
    duration: events.length ? events[events.length - 1][0] : 0};
};

/* A player in box for cast (B.parseCast's). Returns {stop()}. */
B.player = function (box, cast) {
  const term = new Terminal({cols: Math.min(cast.width, 200), rows: Math.min(cast.height, 60),
    fontSize: 13, disableStdin: true, convertEol: true});
  const screen = B.el("div", {class: "term", id: "replay-term"});
  const slider = B.el("input", {type: "range", id: "replay-seek", min: "0",
    max: String(Math.ceil(cast.duration * 10)), value: "0", step: "1"});
  const clock = B.el("span", {id: "replay-clock"});
  const speed = B.el("select", {id: "replay-speed"},
    ...["0.5", "1", "2", "4", "8"].map(s => B.el("option", {value: s, text: "×" + s})));
  speed.value = "1";
  const play = B.el("button", {id: "replay-play", text: B.t("replay.play")});
  box.append(screen, B.el("div", {class: "player-controls"}, play, slider, clock, speed));
  term.open(screen);

  let next = 0, now = 0, timer = null, playing = false;
  const show = () => {
    slider.value = String(Math.round(now * 10));
    clock.textContent = now.toFixed(1) + " / " + cast.duration.toFixed(1) + " s";
  };
  const pause = () => {
    playing = false;
    if (timer) clearTimeout(timer);
    timer = null;
    play.textContent = B.t("replay.play");
  };
  const step = () => {
    timer = null;
    if (!playing) return;
    if (next >= cast.events.length) {
      pause();
      return;
    }
    const [t, data] = cast.events[next++];
    now = t;
    term.write(data);
    show();
    if (next < cast.events.length) {
      const wait = Math.min((cast.events[next][0] - t) * 1000 / Number(speed.value), 2000);
      timer = setTimeout(step, Math.max(wait, 0));
    } else pause();
  };
  const seek = t => {
    term.reset();
    next = 0;
    let out = "";
    while (next < cast.events.length && cast.events[next][0] <= t) out += cast.events[next++][1];
    term.write(out);
    now = t;
    show();
  };
  play.addEventListener("click", () => {
    if (playing) {
      pause();
      return;
    }
    if (next >= cast.events.length) seek(0);
    playing = true;
    play.textContent = B.t("replay.pause");
    step();
  });
  slider.addEventListener("input", () => {
    const was = playing;
    pause();
    seek(Number(slider.value) / 10);
    if (was) play.click();
  });
  show();
  window.bastionReplay = {term, seek, cast};
  return {stop() {
    pause();
    term.dispose();
  }};
};
