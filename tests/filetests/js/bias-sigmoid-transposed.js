return function kernel(out, x0, x1) {
  for (let i0 = 0; i0 < 3; i0++) {
    for (let i1 = 0; i1 < 2; i1++) {
      out[2 * i0 + i1] = h.sigmoid((x0[i0 + 3 * i1] + x1[i0]));
    }
  }
};
