// Element-wise and small kernels of the MLP: bias + ReLU, ReLU's gradient, bias gradient,
// softmax cross-entropy with its gradient, the loss reduction and the optimizer update.
// Linear kernels use a 2-D grid of 256-thread groups: index = (wg.y * groups.x + wg.x) * 256 + lid.

struct Shape { rows: u32, cols: u32, flag: u32, p0: u32 }
struct Step { lr: f32, bc1: f32, bc2: f32, slot: u32, momentum: f32, beta1: f32, beta2: f32, eps: f32, adam: u32, p0: u32, p1: u32, p2: u32 }

fn linear(wg: vec3<u32>, groups: vec3<u32>, lid: vec3<u32>) -> u32 {
    return (wg.y * groups.x + wg.x) * 256u + lid.x;
}

// ---- bias_act: y = y + b (per column), then ReLU when flag = 1.
@group(0) @binding(0) var<uniform> ba_s: Shape;
@group(0) @binding(1) var<storage, read> ba_b: array<f32>;
@group(0) @binding(2) var<storage, read_write> ba_y: array<f32>;

@compute @workgroup_size(256)
fn bias_act(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear(wg, ng, lid);
    if (i >= ba_s.rows * ba_s.cols) { return; }
    var v = ba_y[i] + ba_b[i % ba_s.cols];
    if (ba_s.flag == 1u) { v = max(v, 0.0); }
    ba_y[i] = v;
}

// ---- relu_grad: dz = dz where the layer's output a > 0, else 0.
@group(0) @binding(0) var<uniform> rg_s: Shape;
@group(0) @binding(1) var<storage, read> rg_a: array<f32>;
@group(0) @binding(2) var<storage, read_write> rg_dz: array<f32>;

@compute @workgroup_size(256)
fn relu_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear(wg, ng, lid);
    if (i >= rg_s.rows * rg_s.cols) { return; }
    if (rg_a[i] <= 0.0) { rg_dz[i] = 0.0; }
}

// ---- bias_grad: gb[j] = sum over rows of dz[r, j]; one thread per column.
@group(0) @binding(0) var<uniform> bg_s: Shape;
@group(0) @binding(1) var<storage, read> bg_dz: array<f32>;
@group(0) @binding(2) var<storage, read_write> bg_gb: array<f32>;

@compute @workgroup_size(256)
fn bias_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let j = linear(wg, ng, lid);
    if (j >= bg_s.cols) { return; }
    var s = 0.0;
    for (var r = 0u; r < bg_s.rows; r++) { s += bg_dz[r * bg_s.cols + j]; }
    bg_gb[j] = s;
}

// ---- xent: per row, loss = logsumexp(z) - z[y], correct = (first argmax == y),
// dz = (softmax(z) - onehot(y)) / rows. rows_out holds (loss, correct) pairs.
@group(0) @binding(0) var<uniform> xe_s: Shape;
@group(0) @binding(1) var<storage, read> xe_z: array<f32>;
@group(0) @binding(2) var<storage, read> xe_y: array<u32>;
@group(0) @binding(3) var<storage, read_write> xe_dz: array<f32>;
@group(0) @binding(4) var<storage, read_write> xe_rows: array<f32>;

@compute @workgroup_size(256)
fn xent(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let r = linear(wg, ng, lid);
    if (r >= xe_s.rows) { return; }
    let c = xe_s.cols;
    let base = r * c;
    var mx = xe_z[base];
    var arg = 0u;
    for (var j = 1u; j < c; j++) {
        let v = xe_z[base + j];
        if (v > mx) { mx = v; arg = j; }
    }
    var sum = 0.0;
    for (var j = 0u; j < c; j++) { sum += exp(xe_z[base + j] - mx); }
    let label = xe_y[r];
    xe_rows[2u * r] = log(sum) + mx - xe_z[base + label];
    xe_rows[2u * r + 1u] = select(0.0, 1.0, arg == label);
    let inv = 1.0 / f32(xe_s.rows);
    for (var j = 0u; j < c; j++) {
        let p = exp(xe_z[base + j] - mx) / sum;
        xe_dz[base + j] = (p - select(0.0, 1.0, j == label)) * inv;
    }
}

// ---- reduce: one workgroup sums the (loss, correct) pairs of `rows` rows. flag = 0 writes
// (mean loss, correct) to out[2 * step.slot]; flag = 1 adds (loss sum, correct) to out[0..2].
@group(0) @binding(0) var<uniform> rd_s: Shape;
@group(0) @binding(1) var<uniform> rd_step: Step;
@group(0) @binding(2) var<storage, read> rd_rows: array<f32>;
@group(0) @binding(3) var<storage, read_write> rd_out: array<f32>;
var<workgroup> rd_l: array<f32, 256>;
var<workgroup> rd_c: array<f32, 256>;

@compute @workgroup_size(256)
fn reduce(@builtin(local_invocation_id) lid: vec3<u32>) {
    var l = 0.0;
    var c = 0.0;
    for (var r = lid.x; r < rd_s.rows; r += 256u) {
        l += rd_rows[2u * r];
        c += rd_rows[2u * r + 1u];
    }
    rd_l[lid.x] = l;
    rd_c[lid.x] = c;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (lid.x < s) {
            rd_l[lid.x] += rd_l[lid.x + s];
            rd_c[lid.x] += rd_c[lid.x + s];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        if (rd_s.flag == 0u) {
            rd_out[2u * rd_step.slot] = rd_l[0] / f32(rd_s.rows);
            rd_out[2u * rd_step.slot + 1u] = rd_c[0];
        } else {
            rd_out[0] += rd_l[0];
            rd_out[1] += rd_c[0];
        }
    }
}

// ---- update: SGD with momentum (adam = 0) or Adam (adam = 1) on one tensor of `rows` elements.
@group(0) @binding(0) var<uniform> up_s: Shape;
@group(0) @binding(1) var<uniform> up_step: Step;
@group(0) @binding(2) var<storage, read_write> up_w: array<f32>;
@group(0) @binding(3) var<storage, read> up_g: array<f32>;
@group(0) @binding(4) var<storage, read_write> up_m: array<f32>;
@group(0) @binding(5) var<storage, read_write> up_v: array<f32>;

@compute @workgroup_size(256)
fn update(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = linear(wg, ng, lid);
    if (i >= up_s.rows) { return; }
    let g = up_g[i];
    let o = up_step;
    if (o.adam == 0u) {
        let m = o.momentum * up_m[i] + g;
        up_m[i] = m;
        up_w[i] = up_w[i] - o.lr * m;
    } else {
        let m = o.beta1 * up_m[i] + (1.0 - o.beta1) * g;
        let v = o.beta2 * up_v[i] + (1.0 - o.beta2) * g * g;
        up_m[i] = m;
        up_v[i] = v;
        up_w[i] = up_w[i] - o.lr * (m / o.bc1) / (sqrt(v / o.bc2) + o.eps);
    }
}
