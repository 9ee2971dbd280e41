//! Tauri's build step: reads `tauri.conf.json`, embeds the icons and generates the context.
fn main() {
    tauri_build::build()
}
