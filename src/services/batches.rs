//! Requests that arrive while others are handled wait for their turn, then are handled
//! together: one round trip to the database for many requests (`order_batch`,
//! `unread_counts`). Each request still gets its own answer.

use std::{
    future::Future,
    mem,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use tokio::{
    sync::{OwnedMutexGuard, oneshot},
    task::JoinError,
};

use crate::error::AppError;

/// The requests waiting, in arrival order, and the turn of whoever handles a batch.
pub struct Batches<T> {
    waiting: Mutex<Vec<T>>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl<T> Default for Batches<T> {
    fn default() -> Self {
        Self {
            waiting: Mutex::default(),
            turn: Arc::default(),
        }
    }
}

impl<T: Send + 'static> Batches<T> {
    /// Queues `request` (which carries the sender of `answer`) and waits for its answer.
    /// Whoever gets the turn takes the oldest of what is waiting (as many as
    /// `batch_size` says, at least one) and hands them to `handle` with the turn, which
    /// `handle` holds for as long as the next batch must wait, and answers each request.
    pub async fn submit<R, F>(
        &self,
        request: T,
        mut answer: oneshot::Receiver<Result<R, AppError>>,
        batch_size: fn(&[T]) -> usize,
        handle: impl Fn(Vec<T>, OwnedMutexGuard<()>) -> F,
    ) -> Result<R, AppError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        lock(&self.waiting).push(request);
        loop {
            // Whoever holds the turn handles what is waiting, so the answer may come first.
            let turn = tokio::select! {
                biased;
                outcome = &mut answer => return outcome.unwrap_or_else(|_| Err(AppError::internal())),
                turn = self.turn.clone().lock_owned() => turn,
            };
            let batch = {
                let mut waiting = lock(&self.waiting);
                let size = batch_size(&waiting).max(1).min(waiting.len());
                let rest = waiting.split_off(size);
                mem::replace(&mut *waiting, rest)
            };
            if batch.is_empty() {
                // Nothing waits, so this request is in a batch being handled.
                break;
            }
            // Its own task: the others' requests must not be dropped with this one if its
            // caller goes away (an HTTP client hanging up) mid-batch.
            let mut task = tokio::spawn(handle(batch, turn));
            tokio::select! {
                biased;
                // The batch may answer before its task ends (an order batch publishes its
                // events after answering); the rest of the task is still watched.
                outcome = &mut answer => {
                    tokio::spawn(log_failure(task));
                    return outcome.unwrap_or_else(|_| Err(AppError::internal()));
                }
                () = log_failure(&mut task) => {}
            }
            // A batch takes the oldest requests first: this one may still be waiting.
        }
        answer.await.unwrap_or_else(|_| Err(AppError::internal()))
    }
}

async fn log_failure(task: impl Future<Output = Result<(), JoinError>>) {
    if let Err(error) = task.await {
        tracing::error!(%error, "a batch failed");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    type Request = (u32, oneshot::Sender<Result<u32, AppError>>);

    /// Requests that queue while the turn is taken are then handled together, oldest
    /// first and as many per batch as `batch_size` allows; each gets its own answer.
    #[tokio::test]
    async fn requests_waiting_for_the_turn_are_handled_together() {
        let batches = Arc::new(Batches::<Request>::default());
        let handled = Arc::new(Mutex::new(Vec::new()));
        let held = batches.turn.clone().lock_owned().await;
        let asks: Vec<_> = (0..5)
            .map(|n| {
                let (batches, handled) = (batches.clone(), handled.clone());
                tokio::spawn(async move {
                    let (outcome, answer) = oneshot::channel();
                    let at_most_two = |waiting: &[Request]| waiting.len().min(2);
                    let handle = |batch: Vec<Request>, _turn| {
                        let handled = handled.clone();
                        async move {
                            lock(&handled).push(batch.iter().map(|(n, _)| *n).collect::<Vec<_>>());
                            for (n, outcome) in batch {
                                outcome.send(Ok(n * 10)).ok();
                            }
                        }
                    };
                    batches
                        .submit((n, outcome), answer, at_most_two, handle)
                        .await
                })
            })
            .collect();
        tokio::time::timeout(Duration::from_secs(5), async {
            while lock(&batches.waiting).len() < 5 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("every request queues while the turn is held");
        let queued: Vec<u32> = lock(&batches.waiting).iter().map(|(n, _)| *n).collect();
        drop(held);

        for (n, ask) in (0..5).zip(asks) {
            assert_eq!(ask.await.unwrap().unwrap(), n * 10);
        }
        let batches_handled = lock(&handled).clone();
        assert_eq!(
            batches_handled,
            queued.chunks(2).map(<[u32]>::to_vec).collect::<Vec<_>>()
        );
    }
}
