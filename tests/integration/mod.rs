mod collections;
mod copymove;
mod discovery;
mod hostile;
mod isolation;
mod objects;
mod support;
