//! The real capture path: espeak-ng speech played into a private PulseAudio server's null
//! sink, heard through a virtual source, captured by cpal (ALSA → the `pulse` plugin →
//! PulseAudio), resampled, metered and segmented.
//!
//! Each `#[test]` starts its own server and runs its `child_…` twin (ignored on its own)
//! inside that server's environment.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "tests fail loudly and print what they measured"
)]

mod common;

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use common::*;
use sam_voice::{
    HandsFree, LevelFrame, Mode, Recorder, SPEECH_RATE, UtteranceEvent, VoiceError, resample,
};

const PHRASE_A: &str = "Open the settings and turn on dark mode.";
const PHRASE_B: &str = "Then run the tests again.";

fn assets() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Waits for the `Started` event (audio flowing) and returns the events seen.
fn wait_started(events: &Receiver<UtteranceEvent>) {
    let first = events.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(first, UtteranceEvent::Started { .. }), "{first:?}");
}

/// Collects level frames on a thread, with their arrival times.
fn drain_levels(
    levels: Receiver<LevelFrame>,
) -> std::thread::JoinHandle<Vec<(Instant, LevelFrame)>> {
    std::thread::spawn(move || levels.into_iter().map(|f| (Instant::now(), f)).collect())
}

// ---- push-to-talk: levels, resampling, trimming -------------------------------------------

#[test]
fn push_to_talk_levels_and_speech_through_pulseaudio() {
    let server = start_pulse();
    let dir = assets();
    run_child(&server, "child_push_to_talk", dir.path());
}

#[test]
#[ignore = "runs inside the private PulseAudio of push_to_talk_levels_and_speech_through_pulseaudio"]
fn child_push_to_talk() {
    let dir = child_assets();
    let phrase = speak(PHRASE_A, &dir);
    let take = compose(&[Err(600), Ok(&phrase), Err(900)]);
    let file = dir.join("ptt.wav");
    take.write(&file);

    let (handle, levels, events) = Recorder::start(None, Mode::PushToTalk).unwrap();
    let levels = drain_levels(levels);
    wait_started(&events);
    let started = Instant::now();
    let mut player = play(&file);
    assert!(player.wait().unwrap().success());
    std::thread::sleep(Duration::from_millis(400));
    let elapsed = started.elapsed();
    let utterance = handle.stop().unwrap();
    let timed = levels.join().unwrap();
    let events: Vec<UtteranceEvent> = events.try_iter().collect();
    let frames: Vec<LevelFrame> = timed.iter().map(|(_, f)| *f).collect();
    let (first, last) = (timed[0].0, timed[timed.len() - 1].0);
    let max_gap = timed.windows(2).map(|w| w[1].0 - w[0].0).max().unwrap();
    println!(
        "phrase {} ms; take {utterance:?}; {} level frames, first {:?} after start, max gap {max_gap:?}; events {events:?}",
        phrase.ms(),
        frames.len(),
        first - started,
    );

    // ~60 Hz level stream, delivered as the audio comes (not in second-long bursts), on the
    // audio clock. The gap bound leaves room for a loaded 2-core CI machine.
    let rate = frames.len() as f64 / (last - first).as_secs_f64();
    assert!((52.0..=72.0).contains(&rate), "{rate} frames/s");
    assert!(
        max_gap < Duration::from_millis(400),
        "level stream stalled {max_gap:?}"
    );
    assert!(frames.windows(2).all(|w| w[1].t_ms == w[0].t_ms + 16));
    assert!(elapsed.as_millis() as u64 + 100 >= frames.len() as u64 * 16);

    // Silence before the speech is silent; the speech is loud, voiced, with onsets.
    let speech_start = frames
        .iter()
        .position(|f| f.rms > 0.02)
        .expect("speech in the levels");
    let quiet = &frames[..speech_start.saturating_sub(3)];
    assert!(quiet.len() >= 10, "{} quiet frames", quiet.len());
    assert!(
        quiet.iter().all(|f| f.rms < 0.001 && !f.onset),
        "noise before speech"
    );
    let loud: Vec<&LevelFrame> = frames.iter().filter(|f| f.rms > 0.02).collect();
    let loud_ms = loud.len() as u64 * 16;
    assert!(
        loud_ms * 10 >= phrase.ms() * 5,
        "{loud_ms} ms loud of {} ms",
        phrase.ms()
    );
    let max_rms = frames.iter().map(|f| f.rms).fold(0.0, f32::max);
    let phrase_peak_rms = envelope(&phrase.samples, phrase.rate)
        .into_iter()
        .fold(0.0, f32::max);
    assert!(
        max_rms > phrase_peak_rms * 0.5 && max_rms < phrase_peak_rms * 1.5,
        "captured peak RMS {max_rms} vs played {phrase_peak_rms}"
    );
    let centroid = loud.iter().map(|f| f.centroid_hz).sum::<f32>() / loud.len() as f32;
    assert!(
        (300.0..=3500.0).contains(&centroid),
        "speech centroid {centroid} Hz"
    );
    let voice_band = loud
        .iter()
        .map(|f| f.bands[2] + f.bands[3] + f.bands[4])
        .sum::<f32>();
    let top_band = loud.iter().map(|f| f.bands[7]).sum::<f32>();
    assert!(
        voice_band > top_band * 3.0,
        "speech energy sits in 320–2560 Hz"
    );
    let onsets = frames.iter().filter(|f| f.onset).count();
    assert!(
        (3..=40).contains(&onsets),
        "{onsets} onsets in a 9-syllable phrase"
    );

    // The take: 16 kHz, trimmed to the speech (± padding), and the same sound as was played.
    assert_eq!(utterance.sample_rate, SPEECH_RATE);
    let d = utterance.duration_ms();
    assert!(
        d + 150 >= phrase.ms() && d <= phrase.ms() + 900,
        "take {d} ms for a {} ms phrase",
        phrase.ms()
    );
    assert!(utterance.speech_ms * 10 >= phrase.ms() * 6, "{utterance:?}");
    let reference = resample(&phrase.samples, phrase.rate, SPEECH_RATE).unwrap();
    let (corr, lag) = best_correlation(
        &envelope(&utterance.samples, SPEECH_RATE),
        &envelope(&reference, SPEECH_RATE),
    );
    println!("envelope correlation {corr} at lag {lag}0 ms");
    assert!(
        corr > 0.9,
        "captured speech does not match what was played: {corr}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, UtteranceEvent::SpeechStarted { .. }))
    );
    assert!(events.contains(&UtteranceEvent::Stopped), "{events:?}");
}

// ---- hands-free: VAD segmentation on a known speech/silence pattern -----------------------

#[test]
fn hands_free_splits_speech_on_silence_through_pulseaudio() {
    let server = start_pulse();
    let dir = assets();
    run_child(&server, "child_hands_free", dir.path());
}

#[test]
#[ignore = "runs inside the private PulseAudio of hands_free_splits_speech_on_silence_through_pulseaudio"]
fn child_hands_free() {
    let dir = child_assets();
    let a = speak(PHRASE_A, &dir);
    let b = speak(PHRASE_B, &dir);
    let pattern = compose(&[Err(1000), Ok(&a), Err(1500), Ok(&b), Err(1800)]);
    let file = dir.join("hands-free.wav");
    pattern.write(&file);

    let config = HandsFree {
        silence_ms: 700,
        continuous: true,
        ..HandsFree::default()
    };
    let (handle, levels, events) = Recorder::start(None, Mode::HandsFree(config)).unwrap();
    let _levels = drain_levels(levels);
    wait_started(&events);
    let mut player = play(&file);
    let mut utterances = Vec::new();
    let mut starts = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while utterances.len() < 2 && Instant::now() < deadline {
        match events.recv_timeout(Duration::from_millis(200)) {
            Ok(UtteranceEvent::Utterance(u)) => utterances.push(u),
            Ok(UtteranceEvent::SpeechStarted { .. }) => starts += 1,
            Ok(UtteranceEvent::Error(e)) => panic!("{e}"),
            _ => {}
        }
    }
    assert!(player.wait().unwrap().success());
    println!(
        "phrases {} ms and {} ms; utterances {utterances:?}",
        a.ms(),
        b.ms()
    );
    assert_eq!(utterances.len(), 2, "{utterances:?}");
    assert_eq!(starts, 2);
    for (u, phrase) in utterances.iter().zip([&a, &b]) {
        let d = u.duration_ms();
        // Pre-roll 300 ms + tail 200 ms around the speech; VAD edges within ~150 ms.
        assert!(
            d + 200 >= phrase.ms() && d <= phrase.ms() + 700,
            "utterance {d} ms for a {} ms phrase",
            phrase.ms()
        );
        assert!(u.speech_ms * 10 >= phrase.ms() * 6, "{u:?}");
    }
    // The second starts where the pattern says: 1.5 s of silence after the first phrase.
    let gap = utterances[1].start_ms as i64 - utterances[0].start_ms as i64;
    let expected = a.ms() as i64 + 1500;
    assert!(
        (gap - expected).abs() < 300,
        "gap {gap} ms, expected {expected} ms"
    );
    // Nothing in progress when stopped after the pattern.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(handle.stop().unwrap_err(), VoiceError::NoSpeech);
}

#[test]
fn hands_free_without_speech_ends_with_no_speech() {
    let server = start_pulse();
    let dir = assets();
    run_child(&server, "child_no_speech", dir.path());
}

#[test]
#[ignore = "runs inside the private PulseAudio of hands_free_without_speech_ends_with_no_speech"]
fn child_no_speech() {
    let _ = child_assets();
    let config = HandsFree {
        no_speech_timeout_ms: Some(1500),
        ..HandsFree::default()
    };
    let started = Instant::now();
    let (handle, _levels, events) = Recorder::start(None, Mode::HandsFree(config)).unwrap();
    wait_started(&events);
    let end = loop {
        match events.recv_timeout(Duration::from_secs(5)).unwrap() {
            UtteranceEvent::Error(e) => break e,
            UtteranceEvent::Utterance(u) => panic!("heard speech in silence: {u:?}"),
            _ => {}
        }
    };
    assert_eq!(end, VoiceError::NoSpeech);
    assert_eq!(end.code(), "no_speech");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert!(!handle.is_running());
    assert_eq!(handle.stop().unwrap_err(), VoiceError::NoSpeech);
}

// ---- the device goes away -----------------------------------------------------------------

#[test]
fn device_lost_when_the_sound_server_dies() {
    let server = start_pulse();
    let dir = assets();
    run_child(&server, "child_device_lost", dir.path());
}

#[test]
#[ignore = "runs inside the private PulseAudio of device_lost_when_the_sound_server_dies"]
fn child_device_lost() {
    let _ = child_assets();
    let pid = std::env::var(PID_ENV).unwrap();
    let (handle, _levels, events) = Recorder::start(None, Mode::PushToTalk).unwrap();
    wait_started(&events);
    std::thread::sleep(Duration::from_millis(500));
    // The "unplug": the sound server is killed mid-recording.
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let end = loop {
        match events.recv_timeout(Duration::from_secs(6)) {
            Ok(UtteranceEvent::Error(e)) => break e,
            Ok(_) => {}
            Err(e) => panic!("no error after the device went away: {e}"),
        }
    };
    println!("device lost reported after {:?}: {end}", started.elapsed());
    assert_eq!(end, VoiceError::DeviceLost);
    assert_eq!(end.code(), "device_lost");
    assert_eq!(handle.stop().unwrap_err(), VoiceError::DeviceLost);
}

// ---- devices, selection, cancel -----------------------------------------------------------

#[test]
fn devices_selection_and_cancel_through_pulseaudio() {
    let server = start_pulse();
    let dir = assets();
    run_child(&server, "child_devices_and_cancel", dir.path());
}

#[test]
#[ignore = "runs inside the private PulseAudio of devices_selection_and_cancel_through_pulseaudio"]
fn child_devices_and_cancel() {
    let dir = child_assets();
    let list = sam_voice::devices().unwrap();
    println!("{list:#?}");
    assert!(!list.is_empty());
    assert_eq!(list.iter().filter(|d| d.is_default).count(), 1, "{list:?}");
    assert!(list[0].is_default, "the default comes first");
    let pulse = list
        .iter()
        .find(|d| d.id.ends_with(":pulse"))
        .expect("the PulseAudio device is listed");

    // Picking a device by id works; an unknown one is a clear error.
    let (handle, _levels, events) =
        Recorder::start(Some(pulse.id.clone()), Mode::PushToTalk).unwrap();
    assert_eq!(handle.device().id, pulse.id);
    wait_started(&events);
    let phrase = speak(PHRASE_B, &dir);
    let file = dir.join("cancel.wav");
    phrase.write(&file);
    let mut player = play(&file);
    assert!(player.wait().unwrap().success());
    handle.cancel();
    let events: Vec<UtteranceEvent> = events.try_iter().collect();
    assert_eq!(
        events.last(),
        Some(&UtteranceEvent::Cancelled),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, UtteranceEvent::Utterance(_)))
    );

    let missing =
        Recorder::start(Some("USB Mic That Is Not There".into()), Mode::PushToTalk).unwrap_err();
    assert_eq!(missing.code(), "device_not_found", "{missing}");
    assert!(missing.to_string().contains("USB Mic That Is Not There"));
}

// ---- no sound server at all ---------------------------------------------------------------

#[test]
fn no_microphone_without_a_sound_server() {
    let dir = assets();
    let nowhere = dir.path().join("no-server");
    std::fs::create_dir_all(&nowhere).unwrap();
    // An ALSA configuration whose default device names no card: the same view as a machine
    // without any sound hardware or server, whatever this machine has.
    let alsa_conf = dir.path().join("asound.conf");
    std::fs::write(&alsa_conf, "pcm.!default { type hw card \"NoSuchCard\" }\n").unwrap();
    let env = vec![
        (
            "ALSA_CONFIG_PATH".to_owned(),
            alsa_conf.display().to_string(),
        ),
        (
            "PULSE_SERVER".to_owned(),
            format!("unix:{}/native", nowhere.display()),
        ),
        ("XDG_RUNTIME_DIR".to_owned(), nowhere.display().to_string()),
        (
            "PULSE_RUNTIME_PATH".to_owned(),
            nowhere.display().to_string(),
        ),
        ("HOME".to_owned(), nowhere.display().to_string()),
    ];
    run_child_with("child_no_microphone", dir.path(), &env);
}

#[test]
#[ignore = "runs without a sound server, started by no_microphone_without_a_sound_server"]
fn child_no_microphone() {
    let _ = child_assets();
    let err = Recorder::start(None, Mode::PushToTalk).unwrap_err();
    println!("{err}");
    assert_eq!(err.code(), "no_microphone", "{err}");
}
