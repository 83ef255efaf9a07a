// stats.glsl: merging two partial statistics (count n, mean m, sum of
// squared deviations q) into the first, pairwise (Chan et al. 1979): as
// accurate as two passes over the data. Empty parts (nb = 0) leave a as
// it is.
void mergeStats(inout float na, inout float ma, inout float qa, float nb, float mb, float qb) {
	if (nb == 0.0) return;
	float n = na + nb, delta = mb - ma;
	ma += delta * nb / n;
	qa += qb + delta * delta * na * nb / n;
	na = n;
}

