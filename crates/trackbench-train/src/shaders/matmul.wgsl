// C = op(A) * op(B) (+ C when acc = 1), row-major, op = optional transpose.
// 64x64 output tile per workgroup of 16x16 threads, each thread a 4x4 block; K in steps of 16
// through workgroup memory.
struct Dims { m: u32, n: u32, k: u32, ta: u32, tb: u32, acc: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> As: array<vec4<f32>, 256>; // [k][row / 4], 16 x 64 floats
var<workgroup> Bs: array<vec4<f32>, 256>; // [k][col / 4], 16 x 64 floats

fn load_a(r: u32, k: u32) -> f32 {
    if (r >= d.m || k >= d.k) { return 0.0; }
    if (d.ta == 1u) { return a[k * d.m + r]; }
    return a[r * d.k + k];
}

fn load_b(k: u32, col: u32) -> f32 {
    if (k >= d.k || col >= d.n) { return 0.0; }
    if (d.tb == 1u) { return b[col * d.k + k]; }
    return b[k * d.n + col];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row0 = wg.y * 64u;
    let col0 = wg.x * 64u;
    let tid = lid.y * 16u + lid.x;
    var acc: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }
    for (var t = 0u; t < d.k; t += 16u) {
        for (var i = 0u; i < 4u; i++) {
            let e = tid + i * 256u;
            // Transposed A is contiguous along rows, plain A along k: load along the contiguous axis.
            if (d.ta == 1u) {
                let r = e % 64u; let kk = e / 64u;
                As[kk * 16u + r / 4u][r % 4u] = load_a(row0 + r, t + kk);
            } else {
                let kk = e % 16u; let r = e / 16u;
                As[kk * 16u + r / 4u][r % 4u] = load_a(row0 + r, t + kk);
            }
            if (d.tb == 1u) {
                let kk = e % 16u; let cc = e / 16u;
                Bs[kk * 16u + cc / 4u][cc % 4u] = load_b(t + kk, col0 + cc);
            } else {
                let cc = e % 64u; let kk = e / 64u;
                Bs[kk * 16u + cc / 4u][cc % 4u] = load_b(t + kk, col0 + cc);
            }
        }
        workgroupBarrier();
        for (var kk = 0u; kk < 16u; kk++) {
            let av = As[kk * 16u + lid.y];
            let bv = Bs[kk * 16u + lid.x];
            acc[0] = fma(vec4<f32>(av.x), bv, acc[0]);
            acc[1] = fma(vec4<f32>(av.y), bv, acc[1]);
            acc[2] = fma(vec4<f32>(av.z), bv, acc[2]);
            acc[3] = fma(vec4<f32>(av.w), bv, acc[3]);
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + lid.y * 4u + i;
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + lid.x * 4u + j;
            if (r < d.m && col < d.n) {
                let idx = r * d.n + col;
                var v = acc[i][j];
                if (d.acc == 1u) { v += c[idx]; }
                c[idx] = v;
            }
        }
    }
}
