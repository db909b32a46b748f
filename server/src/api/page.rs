//! Pagination for list calls: `?page=1&pageSize=50` → `{items, page, pageSize, total}`.

use super::error::ApiError;
use domain::ErrorCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The largest page.
pub const MAX_PAGE_SIZE: u64 = 200;

/// The last page number a list call takes (200 million rows at the largest size).
pub const MAX_PAGE: u64 = 1_000_000;

/// Which page to return.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct PageQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub page_size: Option<u64>,
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// This page's number.
    pub page: u64,
    /// The page size used.
    pub page_size: u64,
    /// How many items there are in all.
    pub total: u64,
}

impl PageQuery {
    /// The page and size asked for, checked.
    pub fn bounds(&self) -> Result<(u64, u64), ApiError> {
        let page = self.page.unwrap_or(1);
        let size = self.page_size.unwrap_or(50);
        if page == 0 || page > MAX_PAGE {
            return Err(ApiError::new(
                ErrorCode::Invalid,
                format!("page is between 1 and {MAX_PAGE}."),
            ));
        }
        if size == 0 || size > MAX_PAGE_SIZE {
            return Err(ApiError::new(
                ErrorCode::Invalid,
                format!("pageSize is between 1 and {MAX_PAGE_SIZE}."),
            ));
        }
        Ok((page, size))
    }

    /// Cuts one page out of a whole (short) list.
    pub fn slice<T>(&self, all: Vec<T>) -> Result<Page<T>, ApiError> {
        let (page, size) = self.bounds()?;
        let total = u64::try_from(all.len()).unwrap_or(u64::MAX);
        let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
        let take = usize::try_from(size).unwrap_or(usize::MAX);
        Ok(Page {
            items: all.into_iter().skip(skip).take(take).collect(),
            page,
            page_size: size,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(page: Option<u64>, page_size: Option<u64>) -> PageQuery {
        PageQuery { page, page_size }
    }

    #[test]
    fn pages_cut_the_list_and_report_the_total() {
        let p = q(Some(2), Some(2)).slice(vec![1, 2, 3, 4, 5]).unwrap();
        assert_eq!(
            (p.items, p.page, p.page_size, p.total),
            (vec![3, 4], 2, 2, 5)
        );
        let p = q(None, None).slice(vec![1, 2]).unwrap();
        assert_eq!((p.page, p.page_size, p.items.len()), (1, 50, 2));
        assert!(q(Some(9), Some(2)).slice(vec![1]).unwrap().items.is_empty());
    }

    #[test]
    fn silly_bounds_are_refused() {
        assert!(q(Some(0), None).bounds().is_err());
        assert!(q(None, Some(0)).bounds().is_err());
        assert!(q(None, Some(201)).bounds().is_err());
        assert!(q(Some(u64::MAX), Some(200)).bounds().is_err());
        assert!(q(Some(MAX_PAGE), Some(200)).slice(vec![1]).is_ok());
    }
}
