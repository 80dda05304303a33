// A tile map of the 77 provinces by official code: one square each, laid out to keep Thailand's
// shape (the north at the top, the northeast to the right, the southern peninsula below).
// Edit the picture, not coordinates; "." is an empty square.
const ROWS = [
  " .  .  57",
  "58 50 56 55  .  .  43 38",
  " . 51 52 54 42 39 41 47 48",
  "63 64 53 65 67 36 40 46 49",
  " . 62 66 60 16 30 44 45 35 37",
  " . 61 18 17 19 31 32 33 34",
  "71 72 15 14 26 25 27",
  "70 73 12 13 24",
  "76 74 10 11 20",
  "77 75  .  . 21 22 23",
  " . 86",
  "85 84",
  "82 81 80",
  "83 92 93",
  " . 91 90 94",
  " .  .  . 95 96",
];

/** Province code -> [column, row]. */
export const TILES = Object.fromEntries(
  ROWS.flatMap((line, row) =>
    line
      .trim()
      .split(/\s+/)
      .map((code, column) => [code, [column, row]])
      .filter(([code]) => code !== "."),
  ),
);
