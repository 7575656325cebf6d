//! One generic object store for every served resource, as etcd + the apiserver's registry:
//! objects as JSON keyed by (group, resource, namespace, name), one cluster-wide
//! resourceVersion counter, optimistic concurrency, and a change feed that watches and
//! controllers subscribe to, with a bounded history so a watch resumes from a recent
//! resourceVersion or gets 410 Gone.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::status::{ApiError, Target};

/// How many past events a watch can resume from before it gets 410 Gone.
const HISTORY: usize = 16_384;
/// How far a subscriber may fall behind before its watch is closed (it re-lists, as clients do).
const FEED_CAPACITY: usize = 16_384;
/// `generateName` suffixes, as the apiserver draws them (no vowels, no look-alikes).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A resource: API group (empty for core) and plural name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resource {
    /// API group, empty for the core group.
    pub group: String,
    /// Plural resource name (`secrets`, `certificatesigningrequests`).
    pub resource: String,
}

impl Resource {
    /// `resource` in `group`.
    pub fn new(group: &str, resource: &str) -> Self {
        Self {
            group: group.into(),
            resource: resource.into(),
        }
    }

    /// The `Status` details of object `name` of this resource.
    pub fn target(&self, name: &str) -> Target {
        Target::new(&self.group, &self.resource, name)
    }
}

/// The place of one object: its resource, namespace (empty when cluster-scoped) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// The resource.
    pub resource: Resource,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Deleted; the object is its last state.
    Deleted,
}

impl EventType {
    /// The watch event's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change, as watches and controllers see it.
#[derive(Clone, Debug)]
pub struct Event {
    /// What happened.
    pub kind: EventType,
    /// Which object.
    pub key: ObjectKey,
    /// The object after the change (before it, for a deletion), with its resourceVersion.
    pub object: Arc<Value>,
    /// The resourceVersion of this change.
    pub resource_version: u64,
}

/// Which objects a list or watch wants.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this namespace; `None` for all namespaces (or a cluster-scoped resource).
    pub namespace: Option<String>,
    /// Only this name (`fieldSelector=metadata.name=...`).
    pub name: Option<String>,
}

impl Filter {
    fn matches(&self, key: &ObjectKey) -> bool {
        self.namespace.as_ref().is_none_or(|ns| *ns == key.namespace)
            && self.name.as_ref().is_none_or(|n| *n == key.name)
    }
}

/// A watch: events since the requested resourceVersion, then the live feed.
pub struct Watch {
    /// Changes after the requested resourceVersion that were already recorded.
    pub backlog: Vec<Event>,
    /// Later changes, of all resources; filter them with [`Watch::wants`].
    pub feed: broadcast::Receiver<Event>,
    resource: Resource,
    filter: Filter,
}

impl Watch {
    /// Whether `event` belongs to this watch.
    pub fn wants(&self, event: &Event) -> bool {
        event.key.resource == self.resource && self.filter.matches(&event.key)
    }
}

#[derive(Default)]
struct State {
    objects: BTreeMap<ObjectKey, Arc<Value>>,
    revision: u64,
    history: VecDeque<Event>,
}

/// The store. Cheap to clone; all clones share the objects.
#[derive(Clone)]
pub struct Store {
    state: Arc<Mutex<State>>,
    feed: broadcast::Sender<Event>,
    clock: Clock,
}

impl Store {
    /// An empty store whose timestamps come from `clock`.
    pub fn new(clock: Clock) -> Self {
        Self {
            state: Arc::default(),
            feed: broadcast::channel(FEED_CAPACITY).0,
            clock,
        }
    }

    /// The clock the store stamps objects with.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every write is one insert).
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current resourceVersion of the whole store.
    pub fn revision(&self) -> u64 {
        self.lock().revision
    }

    /// One object.
    pub fn get(&self, key: &ObjectKey) -> Result<Arc<Value>, ApiError> {
        stored(&self.lock(), key)
    }

    /// The objects of `resource` that `filter` wants, in key order, and the store's
    /// resourceVersion they are consistent with.
    pub fn list(&self, resource: &Resource, filter: &Filter) -> (Vec<Arc<Value>>, u64) {
        let state = self.lock();
        let items = match &filter.name {
            Some(name) => named(&state.objects, resource, filter.namespace.as_deref(), name),
            None => {
                // Keys sort by resource, then namespace: scan only this resource's range (from
                // the filter's namespace), not every object in the store.
                let start = ObjectKey {
                    resource: resource.clone(),
                    namespace: filter.namespace.clone().unwrap_or_default(),
                    name: String::new(),
                };
                state
                    .objects
                    .range(start..)
                    .take_while(|(key, _)| key.resource == *resource)
                    .filter(|(key, _)| filter.matches(key))
                    .map(|(_, object)| object.clone())
                    .collect()
            }
        };
        (items, state.revision)
    }

    /// Creates `object` at `key`'s resource and namespace. Its name is `metadata.name`, or
    /// `metadata.generateName` plus five random characters; uid, resourceVersion and
    /// creationTimestamp are assigned here.
    pub fn create(
        &self,
        resource: &Resource,
        namespace: &str,
        mut object: Value,
    ) -> Result<Arc<Value>, ApiError> {
        let mut state = self.lock();
        let name = match object.pointer("/metadata/name").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => {
                let prefix = object
                    .pointer("/metadata/generateName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                loop {
                    let candidate = format!("{prefix}{}", random_suffix());
                    let key = ObjectKey {
                        resource: resource.clone(),
                        namespace: namespace.into(),
                        name: candidate.clone(),
                    };
                    if !state.objects.contains_key(&key) {
                        break candidate;
                    }
                }
            }
        };
        let key = ObjectKey {
            resource: resource.clone(),
            namespace: namespace.into(),
            name: name.clone(),
        };
        if state.objects.contains_key(&key) {
            return Err(ApiError::already_exists(resource.target(&name)));
        }
        let revision = state.revision + 1;
        let metadata = metadata_mut(&mut object);
        metadata.insert("name".into(), json!(name));
        if !namespace.is_empty() {
            metadata.insert("namespace".into(), json!(namespace));
        }
        metadata.insert("uid".into(), json!(random_uid()));
        metadata.insert("creationTimestamp".into(), json!(rfc3339(self.clock.now())));
        metadata.insert("resourceVersion".into(), json!(revision.to_string()));
        Ok(commit(
            &mut state,
            &self.feed,
            EventType::Added,
            key,
            object,
            revision,
        ))
    }

    /// Replaces the object at `key` with `object`. When the new object names a
    /// resourceVersion, it must be the stored one (409 Conflict otherwise); uid and
    /// creationTimestamp are kept from the stored object.
    pub fn update(&self, key: &ObjectKey, mut object: Value) -> Result<Arc<Value>, ApiError> {
        let mut state = self.lock();
        let old = stored(&state, key)?;
        let wanted = object
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str);
        let stored = old.pointer("/metadata/resourceVersion").and_then(Value::as_str);
        if wanted.is_some_and(|w| !w.is_empty() && Some(w) != stored) {
            return Err(ApiError::conflict(key.resource.target(&key.name)));
        }
        let revision = state.revision + 1;
        let metadata = metadata_mut(&mut object);
        for field in ["name", "namespace", "uid", "creationTimestamp"] {
            match old.pointer(&format!("/metadata/{field}")) {
                Some(value) => metadata.insert(field.into(), value.clone()),
                None => metadata.remove(field),
            };
        }
        metadata.insert("resourceVersion".into(), json!(revision.to_string()));
        Ok(commit(
            &mut state,
            &self.feed,
            EventType::Modified,
            key.clone(),
            object,
            revision,
        ))
    }

    /// Reads the object at `key`, lets `change` edit a copy, and stores the result, all under
    /// one lock: what controllers use so they never lose a concurrent write.
    pub fn modify(
        &self,
        key: &ObjectKey,
        change: impl FnOnce(&mut Value) -> Result<(), ApiError>,
    ) -> Result<Arc<Value>, ApiError> {
        let mut state = self.lock();
        let old = stored(&state, key)?;
        let mut object = (*old).clone();
        change(&mut object)?;
        let revision = state.revision + 1;
        metadata_mut(&mut object).insert("resourceVersion".into(), json!(revision.to_string()));
        Ok(commit(
            &mut state,
            &self.feed,
            EventType::Modified,
            key.clone(),
            object,
            revision,
        ))
    }

    /// Deletes the object at `key`; with `uid`, only if it is still that object (409 otherwise).
    pub fn delete(&self, key: &ObjectKey, uid: Option<&str>) -> Result<Arc<Value>, ApiError> {
        let mut state = self.lock();
        let old = stored(&state, key)?;
        if uid.is_some_and(|uid| old.pointer("/metadata/uid").and_then(Value::as_str) != Some(uid)) {
            return Err(ApiError::conflict(key.resource.target(&key.name)));
        }
        state.objects.remove(key);
        state.revision += 1;
        let revision = state.revision;
        let mut last = (*old).clone();
        metadata_mut(&mut last).insert("resourceVersion".into(), json!(revision.to_string()));
        let event = Event {
            kind: EventType::Deleted,
            key: key.clone(),
            object: Arc::new(last),
            resource_version: revision,
        };
        record(&mut state, &self.feed, event);
        Ok(old)
    }

    /// A watch of `resource` for the objects `filter` wants, from just after resourceVersion
    /// `since` (0 or `None`: from now). 410 Gone when `since` is older than the history kept.
    pub fn watch(&self, resource: &Resource, filter: Filter, since: Option<u64>) -> Result<Watch, ApiError> {
        let state = self.lock();
        let since = since.unwrap_or(0);
        let oldest = state
            .history
            .front()
            .map_or(state.revision, |e| e.resource_version - 1);
        if since != 0 && since < oldest {
            return Err(ApiError::gone(format!(
                "too old resource version: {since} ({oldest})"
            )));
        }
        let backlog = if since == 0 {
            Vec::new()
        } else {
            // The history is in resourceVersion order: skip what the watcher has seen.
            let first = state.history.partition_point(|e| e.resource_version <= since);
            state
                .history
                .range(first..)
                .filter(|e| e.key.resource == *resource && filter.matches(&e.key))
                .cloned()
                .collect()
        };
        // Subscribing under the lock: no change can fall between the backlog and the feed.
        Ok(Watch {
            backlog,
            feed: self.feed.subscribe(),
            resource: resource.clone(),
            filter,
        })
    }

    /// A subscription to every change from now on (controllers).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.feed.subscribe()
    }

    /// Every object with its key, and the revision: what persistence saves.
    pub fn snapshot(&self) -> (Vec<(ObjectKey, Arc<Value>)>, u64) {
        let state = self.lock();
        let objects = state
            .objects
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (objects, state.revision)
    }

    /// Replaces the contents with a snapshot (on start, before anyone watches).
    pub fn restore(&self, objects: Vec<(ObjectKey, Value)>, revision: u64) {
        let mut state = self.lock();
        state.objects = objects.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        state.revision = revision;
        state.history.clear();
    }
}

/// The objects of `resource` called `name`, in `namespace` or (`None`) in every namespace, in
/// key order: one ordered-map seek per namespace that holds objects of `resource`, where a
/// scan would compare every key (a node's list of its own CSR, among a thousand).
fn named(
    objects: &BTreeMap<ObjectKey, Arc<Value>>,
    resource: &Resource,
    namespace: Option<&str>,
    name: &str,
) -> Vec<Arc<Value>> {
    let mut found = Vec::new();
    let mut seek = ObjectKey {
        resource: resource.clone(),
        namespace: namespace.unwrap_or_default().to_owned(),
        name: name.to_owned(),
    };
    while let Some((key, object)) = objects.range(&seek..).next() {
        if key.resource != *resource || namespace.is_some_and(|ns| ns != key.namespace) {
            break;
        }
        if key.namespace == seek.namespace {
            if key.name == name {
                found.push(object.clone());
            }
            // The smallest namespace after this one.
            seek.namespace.push('\0');
        } else {
            // A later namespace: look for the name in it.
            seek.namespace.clone_from(&key.namespace);
        }
    }
    found
}

/// The object at `key`, or the API's 404 for it.
fn stored(state: &State, key: &ObjectKey) -> Result<Arc<Value>, ApiError> {
    state
        .objects
        .get(key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(key.resource.target(&key.name)))
}

fn commit(
    state: &mut State,
    feed: &broadcast::Sender<Event>,
    kind: EventType,
    key: ObjectKey,
    object: Value,
    revision: u64,
) -> Arc<Value> {
    let object = Arc::new(object);
    state.revision = revision;
    state.objects.insert(key.clone(), object.clone());
    let event = Event {
        kind,
        key,
        object: object.clone(),
        resource_version: revision,
    };
    record(state, feed, event);
    object
}

fn record(state: &mut State, feed: &broadcast::Sender<Event>, event: Event) {
    if state.history.len() == HISTORY {
        state.history.pop_front();
    }
    state.history.push_back(event.clone());
    // No subscriber is fine: nobody is watching.
    let _ = feed.send(event);
}

/// `metadata` as a map, created (and a non-object `metadata` replaced) when needed.
fn metadata_mut(object: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !object.is_object() {
        *object = json!({});
    }
    let Value::Object(map) = object else {
        unreachable!("made an object above")
    };
    let metadata = map.entry("metadata").or_insert_with(|| json!({}));
    if !metadata.is_object() {
        *metadata = json!({});
    }
    match metadata {
        Value::Object(metadata) => metadata,
        _ => unreachable!("made an object above"),
    }
}

/// RFC 3339 in whole seconds, UTC, as the apiserver writes timestamps.
pub fn rfc3339(time: std::time::SystemTime) -> String {
    kubetrust_pki::expiration::rfc3339(time)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS source failing is not something a test server can recover from; fall back to
    // the clock so names stay unique in practice.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (byte, source) in bytes.iter_mut().zip(nanos.to_le_bytes().iter().cycle()) {
            *byte = *source;
        }
    }
    bytes
}

fn random_suffix() -> String {
    random_bytes::<5>()
        .iter()
        .filter_map(|b| NAME_ALPHABET.get(usize::from(*b) % NAME_ALPHABET.len()))
        .map(|c| char::from(*c))
        .collect()
}

/// A random (version 4) UUID.
pub fn random_uid() -> String {
    let bytes = random_bytes::<16>();
    let mut uid = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        let byte = match i {
            6 => (byte & 0x0f) | 0x40, // version 4
            8 => (byte & 0x3f) | 0x80, // RFC 4122 variant
            _ => *byte,
        };
        if matches!(i, 4 | 6 | 8 | 10) {
            uid.push('-');
        }
        uid.push_str(&format!("{byte:02x}"));
    }
    uid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csrs() -> Resource {
        Resource::new("certificates.k8s.io", "certificatesigningrequests")
    }

    fn key(name: &str) -> ObjectKey {
        ObjectKey {
            resource: csrs(),
            namespace: String::new(),
            name: name.into(),
        }
    }

    #[test]
    fn list_keeps_to_its_resource_and_namespace() {
        let store = Store::new(Clock::default());
        let maps = Resource::new("", "configmaps");
        let secrets = Resource::new("", "secrets");
        for (resource, namespace, name) in [
            (&maps, "a", "x"),
            (&maps, "b", "y"),
            (&maps, "c", "z"),
            (&secrets, "b", "s"),
            (&csrs(), "", "r"),
        ] {
            store
                .create(resource, namespace, json!({"metadata": {"name": name}}))
                .unwrap();
        }
        let names = |resource: &Resource, namespace: Option<&str>| {
            let filter = Filter {
                namespace: namespace.map(str::to_owned),
                name: None,
            };
            let (items, _) = store.list(resource, &filter);
            items
                .iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&maps, None), ["x", "y", "z"]);
        assert_eq!(names(&maps, Some("b")), ["y"]);
        assert_eq!(names(&secrets, None), ["s"]);
        assert_eq!(names(&secrets, Some("a")), Vec::<String>::new());
        assert_eq!(names(&csrs(), None), ["r"]);
    }

    #[test]
    fn list_by_name_finds_it_in_each_namespace() {
        let store = Store::new(Clock::default());
        let maps = Resource::new("", "configmaps");
        for (resource, namespace, name) in [
            (&maps, "a", "x"),
            (&maps, "b", "w"),
            (&maps, "b", "x"),
            (&maps, "b", "y"),
            (&maps, "c", "w"),
            (&maps, "d", "x"),
            (&Resource::new("", "secrets"), "a", "x"),
            (&csrs(), "", "x"),
        ] {
            store
                .create(resource, namespace, json!({"metadata": {"name": name}}))
                .unwrap();
        }
        let found = |resource: &Resource, namespace: Option<&str>, name: &str| {
            let filter = Filter {
                namespace: namespace.map(str::to_owned),
                name: Some(name.into()),
            };
            let (items, _) = store.list(resource, &filter);
            items
                .iter()
                .map(|o| {
                    format!(
                        "{}/{}",
                        o["metadata"]["namespace"].as_str().unwrap_or(""),
                        o["metadata"]["name"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(found(&maps, None, "x"), ["a/x", "b/x", "d/x"]);
        assert_eq!(found(&maps, Some("b"), "x"), ["b/x"]);
        assert_eq!(found(&maps, Some("c"), "x"), Vec::<String>::new());
        assert_eq!(found(&maps, None, "w"), ["b/w", "c/w"]);
        assert_eq!(found(&maps, None, "z"), Vec::<String>::new());
        assert_eq!(found(&csrs(), None, "x"), ["/x"]);
        assert_eq!(found(&Resource::new("", "pods"), None, "x"), Vec::<String>::new());
    }

    #[test]
    fn create_assigns_identity_and_refuses_duplicates() {
        let store = Store::new(Clock::default());
        let created = store
            .create(&csrs(), "", json!({"metadata": {"name": "a"}}))
            .unwrap();
        assert_eq!(created["metadata"]["resourceVersion"], "1");
        assert_eq!(created["metadata"]["uid"].as_str().unwrap().len(), 36);
        let err = store
            .create(&csrs(), "", json!({"metadata": {"name": "a"}}))
            .unwrap_err();
        assert_eq!(err.reason, "AlreadyExists");
        let generated = store
            .create(&csrs(), "", json!({"metadata": {"generateName": "csr-"}}))
            .unwrap();
        let name = generated["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("csr-") && name.len() == 9, "{name}");
    }

    #[test]
    fn stale_updates_conflict_and_identity_is_kept() {
        let store = Store::new(Clock::default());
        let created = store
            .create(&csrs(), "", json!({"metadata": {"name": "a"}}))
            .unwrap();
        let mut change = (*created).clone();
        change["metadata"]["uid"] = json!("forged");
        let updated = store.update(&key("a"), change.clone()).unwrap();
        assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
        assert_eq!(updated["metadata"]["resourceVersion"], "2");
        assert_eq!(store.update(&key("a"), change).unwrap_err().reason, "Conflict");
    }

    #[test]
    fn watch_resumes_from_a_revision_and_expires_old_ones() {
        let store = Store::new(Clock::default());
        store
            .create(&csrs(), "", json!({"metadata": {"name": "a"}}))
            .unwrap();
        store
            .create(&csrs(), "", json!({"metadata": {"name": "b"}}))
            .unwrap();
        store.delete(&key("a"), None).unwrap();
        let filter = Filter {
            name: Some("a".into()),
            ..Filter::default()
        };
        let watch = store.watch(&csrs(), filter, Some(1)).unwrap();
        let kinds: Vec<_> = watch.backlog.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventType::Deleted]);
        for i in 0..HISTORY + 1 {
            store
                .create(&csrs(), "", json!({"metadata": {"name": format!("n{i}")}}))
                .unwrap();
        }
        assert_eq!(
            store
                .watch(&csrs(), Filter::default(), Some(1))
                .err()
                .unwrap()
                .code,
            410
        );
    }

    #[test]
    fn delete_with_a_stale_uid_conflicts() {
        let store = Store::new(Clock::default());
        store
            .create(&csrs(), "", json!({"metadata": {"name": "a"}}))
            .unwrap();
        assert_eq!(store.delete(&key("a"), Some("other")).unwrap_err().code, 409);
        assert!(store.delete(&key("a"), None).is_ok());
        assert_eq!(store.get(&key("a")).unwrap_err().code, 404);
    }
}
