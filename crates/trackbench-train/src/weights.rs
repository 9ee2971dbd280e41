//! Saving and loading weights in the safetensors format: `layers.{l}.weight` (`fan_out x
//! fan_in`, PyTorch's `nn.Linear` layout, so the file loads into a torch model as is) and
//! `layers.{l}.bias`, `F32`, with the layer sizes in the metadata.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::TrainError;
use crate::model::{Layer, MlpSpec, Params};

fn err(e: impl std::fmt::Display) -> TrainError {
    TrainError::Weights(e.to_string())
}

/// Serialises `params` (shaped by `spec`) to safetensors bytes.
pub fn to_bytes(spec: &MlpSpec, params: &Params) -> Result<Vec<u8>, TrainError> {
    let mut blobs: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (l, layer) in params.layers.iter().enumerate() {
        let (i, o) = spec.shape(l);
        // Stored here as fan_in x fan_out; written transposed (torch's out x in).
        let mut wt = vec![0.0f32; i * o];
        for r in 0..i {
            for c in 0..o {
                wt[c * i + r] = layer.w[r * o + c];
            }
        }
        blobs.push((format!("layers.{l}.weight"), vec![o, i], bytemuck::cast_slice(&wt).to_vec()));
        blobs.push((format!("layers.{l}.bias"), vec![o], bytemuck::cast_slice(&layer.b).to_vec()));
    }
    let views = blobs
        .iter()
        .map(|(name, shape, data)| TensorView::new(Dtype::F32, shape.clone(), data).map(|v| (name.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let sizes = spec.sizes.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let meta = HashMap::from([("sizes".to_string(), sizes), ("format".to_string(), "trackbench-mlp".to_string())]);
    safetensors::serialize(views, Some(meta)).map_err(err)
}

/// Writes the weights to `path`.
pub fn save(path: &Path, spec: &MlpSpec, params: &Params) -> Result<(), TrainError> {
    std::fs::write(path, to_bytes(spec, params)?).map_err(|e| TrainError::Weights(format!("{}: {e}", path.display())))
}

/// Reads weights written by [`to_bytes`] back.
pub fn from_bytes(bytes: &[u8]) -> Result<(MlpSpec, Params), TrainError> {
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(err)?;
    let sizes = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("sizes"))
        .ok_or_else(|| err("no `sizes` metadata"))?
        .split(',')
        .map(|s| s.parse::<usize>().map_err(err))
        .collect::<Result<Vec<_>, _>>()?;
    let spec = MlpSpec { sizes };
    let st = SafeTensors::deserialize(bytes).map_err(err)?;
    let floats = |name: &str| -> Result<Vec<f32>, TrainError> {
        let t = st.tensor(name).map_err(err)?;
        Ok(t.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    };
    let mut layers = Vec::new();
    for l in 0..spec.layers() {
        let (i, o) = spec.shape(l);
        let wt = floats(&format!("layers.{l}.weight"))?;
        let b = floats(&format!("layers.{l}.bias"))?;
        if wt.len() != i * o || b.len() != o {
            return Err(err(format!("layer {l} has the wrong shape")));
        }
        let mut w = vec![0.0f32; i * o];
        for r in 0..i {
            for c in 0..o {
                w[r * o + c] = wt[c * i + r];
            }
        }
        layers.push(Layer { w, b });
    }
    Ok((spec, Params { layers }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let spec = MlpSpec::new(5, &[3], 2);
        let p = Params::init(&spec, 4);
        let (spec2, p2) = from_bytes(&to_bytes(&spec, &p).unwrap()).unwrap();
        assert_eq!((spec2, p2), (spec, p));
    }
}
